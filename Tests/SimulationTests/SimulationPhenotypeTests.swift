import GrapeSupport
import Foundation
import TensorCore
import Testing

@testable import Simulation
import OPSData

@Suite struct SimulationPhenotypeTests {
  static func bundled(_ mutate: (inout SimulationConfig) -> Void = { _ in }) throws
    -> ScreenSimulator
  {
    var c = SimFixtures.smallConfig()
    mutate(&c)
    return try ScreenSimulator(
      config: c, complexes: ComplexTable(contentsOf: SimFixtures.bundledTableURL))
  }

  static func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
    var dot = 0.0
    var na = 0.0
    var nb = 0.0
    for (x, y) in zip(a, b) {
      dot += Double(x * y)
      na += Double(x * x)
      nb += Double(y * y)
    }
    return dot / max(1e-12, (na * nb).squareRoot())
  }

  @Test func genesOfAComplexSharePhenotypeDirections() throws {
    let truth = try Self.bundled().truth
    let complexOf = truth.complexOfGene.map(Int.init)
    var within: [Double] = []
    var across: [Double] = []
    for g in 0..<truth.geneCount where truth.geneEffectSizes[g] > 0 {
      for h in (g + 1)..<truth.geneCount where truth.geneEffectSizes[h] > 0 {
        let c = Self.cosine(truth.phenotype(ofGene: g), truth.phenotype(ofGene: h))
        if complexOf[g] >= 0 && complexOf[g] == complexOf[h] {
          within.append(c)
        } else {
          across.append(c)
        }
      }
    }
    let meanWithin = within.reduce(0, +) / Double(within.count)
    let meanAcross = across.reduce(0, +) / Double(across.count)
    #expect(meanWithin > 0.7)
    #expect(abs(meanAcross) < 0.15)
    #expect(within.min() ?? 0 > 0.3)
  }

  @Test func theControlHasNoPhenotypeAndNoComplex() throws {
    let sim = try Self.bundled()
    let truth = sim.truth
    #expect(truth.geneNames.last == "nontargeting")
    #expect(truth.controlIndex == truth.geneCount - 1)
    #expect(truth.complexOfGene[truth.controlIndex] == -1)
    #expect(truth.phenotype(ofGene: truth.controlIndex).allSatisfy { $0 == 0 })
    #expect(truth.genePenetrance[truth.controlIndex] == 0)
    var rng = RandomGenerator(seed: 5)
    for _ in 0..<50 {
      let (_, affected) = sim.cellTraits(gene: truth.controlIndex, rng: &rng)
      #expect(!affected)
    }
  }

  @Test func effectSizesRangeFromStrongToFaintAndSomeGenesHaveNone() throws {
    let truth = try Self.bundled().truth
    let strengths = truth.complexStrengths
    #expect(strengths.count == 14)
    #expect((strengths.min() ?? 1) < 0.45)
    #expect((strengths.max() ?? 0) > 1.4)
    let targeting = (0..<truth.geneCount).filter { $0 != truth.controlIndex }
    let nulls = targeting.filter { truth.geneEffectSizes[$0] == 0 }
    #expect((1...15).contains(nulls.count))
    let partial = targeting.filter { truth.genePenetrance[$0] < 0.7 }
    #expect(partial.count >= 10)
    #expect(targeting.allSatisfy { (0.3...1).contains(truth.genePenetrance[$0]) })
    // Complex directions are unit vectors.
    let p = truth.parameterCount
    for k in 0..<14 {
      let row = truth.complexDirections[(k * p)..<((k + 1) * p)]
      #expect(abs(row.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
    }
  }

  @Test func phenotypeStrengthScalesEveryVector() throws {
    let one = try Self.bundled().truth
    let two = try Self.bundled { $0.phenotypeStrength = 2 }.truth
    let zero = try Self.bundled { $0.phenotypeStrength = 0 }.truth
    for (a, b) in zip(one.genePhenotypes, two.genePhenotypes) { #expect(abs(2 * a - b) < 1e-5) }
    #expect(zero.genePhenotypes.allSatisfy { $0 == 0 })
    #expect(one.genePenetrance == two.genePenetrance)
  }

  @Test func phenotypesDoNotDependOnScreenLayout() throws {
    let a = try Self.bundled().truth
    let b = try Self.bundled {
      $0.batches = 5
      $0.cellsPerGene = 9
      $0.batchEffect = 0.3
      $0.size = 64
    }.truth
    #expect(a.genePhenotypes == b.genePhenotypes)
    #expect(a.genePenetrance == b.genePenetrance)
    // The first batches keep their conditions when more are added.
    let e = a.effectNames.count
    // (b's batch effect has another scale, so its conditions differ.)
    #expect(Array(a.batchEffects[0..<(2 * e)]) != Array(b.batchEffects[0..<(2 * e)]))
    let c = try Self.bundled { $0.batches = 5 }.truth
    #expect(Array(a.batchEffects[0..<(2 * e)]) == Array(c.batchEffects[0..<(2 * e)]))
  }

  @Test func cellTraitsCarryTheGenePhenotypeAtItsPenetrance() throws {
    let sim = try Self.bundled()
    let truth = sim.truth
    let p = truth.parameterCount
    // The strongest gene with full penetrance, and one with partial penetrance.
    let targeting = (0..<truth.geneCount).filter { $0 != truth.controlIndex }
    let full =
      targeting.filter { truth.genePenetrance[$0] == 1 }
      .max { truth.geneEffectSizes[$0] < truth.geneEffectSizes[$1] } ?? 0
    let partial =
      targeting.filter { truth.genePenetrance[$0] < 0.7 && truth.geneEffectSizes[$0] > 0 }
      .max { truth.geneEffectSizes[$0] < truth.geneEffectSizes[$1] } ?? 0
    var rng = RandomGenerator(seed: 77)
    for g in [full, partial] {
      let n = 3000
      var mean = [Double](repeating: 0, count: p)
      var affected = 0
      for _ in 0..<n {
        let (traits, hit) = sim.cellTraits(gene: g, rng: &rng)
        if hit { affected += 1 }
        for k in 0..<p { mean[k] += Double(traits[k]) / Double(n) }
      }
      let rate = Double(affected) / Double(n)
      #expect(abs(rate - Double(truth.genePenetrance[g])) < 0.03)
      let expected = truth.phenotype(ofGene: g).map { Double($0) * rate }
      for k in 0..<p { #expect(abs(mean[k] - expected[k]) < 0.08, "gene \(g) trait \(k)") }
    }
  }

  @Test func naturalTraitsAreStandardWithTheDocumentedCorrelations() {
    var rng = RandomGenerator(seed: 3)
    let n = 20_000
    let p = PhenotypeParameter.count
    var sum = [Double](repeating: 0, count: p)
    var sum2 = [Double](repeating: 0, count: p)
    var cross = 0.0
    for _ in 0..<n {
      let z = PhenotypeParameter.drawNatural(&rng).map(Double.init)
      for k in 0..<p {
        sum[k] += z[k]
        sum2[k] += z[k] * z[k]
      }
      cross += z[PhenotypeParameter.nuclearSize.rawValue] * z[PhenotypeParameter.cellArea.rawValue]
    }
    for k in 0..<p {
      #expect(abs(sum[k] / Double(n)) < 0.03)
      #expect(abs(sum2[k] / Double(n) - 1) < 0.05)
    }
    #expect(abs(cross / Double(n) - 0.6 * 0.55) < 0.04)
    #expect(PhenotypeParameter.names.count == p && Set(PhenotypeParameter.names).count == p)
  }

  @Test func genesOutsideEveryComplexGetTheirOwnPhenotype() {
    // Genes 0–2 form complex 0, genes 3–4 belong to none, gene 5 is the control.
    let model = GenePhenotypes(
      complexOfGene: [0, 0, 0, -1, -1, -1], complexCount: 1, controlIndex: 5, strength: 1, seed: 8)
    let p = model.traitCount
    #expect(model.vectors.count == 6 * p)
    #expect(model.vector(5).allSatisfy { $0 == 0 } && model.penetrance[5] == 0)
    for g in [3, 4] where model.effectSizes[g] > 0 {
      // Unrelated genes point elsewhere than the complex.
      #expect(abs(Self.cosine(model.vector(g), model.vector(0))) < 0.9)
    }
    #expect(model.effectSizes[3] != model.effectSizes[4])
  }
}
