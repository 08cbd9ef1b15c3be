import Foundation
import OPSData
import GrapeSupport

/// The phenotype of every simulated gene: a shift vector in trait space and a penetrance.
///
/// Drawn as follows (all from streams of the seed, so they do not depend on cell or batch counts):
///
/// 1. Each complex `k` gets a unit direction `d_k` over the `PhenotypeParameter` traits: a Gaussian
///    vector in which 3–6 randomly chosen traits keep full weight and the others are scaled by
///    0.2, so each complex changes a few traits clearly and the rest a little.
/// 2. Complex strengths `s_k` are stratified on a log scale over [0.35, 3.0] trait standard
///    deviations (shuffled over complexes), so effects range from strong to barely visible.
/// 3. Gene `g` of complex `k` has `v_g = strength · s_k · f_g · (d_k + ε_g)`, with a gene factor
///    `f_g ~ LogNormal(0, 0.3)` and gene noise `ε_g ~ N(0, 0.45² / P)` per trait (within-complex
///    cosine ≈ 0.8); `strength` is `--phenotype-strength`.
/// 4. About 6 % of genes have no effect (`v_g = 0`), as guides that fail to knock out do.
/// 5. Penetrance: half the genes affect all their cells; a quarter 70–100 %; a quarter 30–70 %.
///    An unaffected cell is drawn like a control cell.
/// 6. Genes outside every complex (there are none in the bundled table) get a random direction of
///    their own; the control has `v = 0` and penetrance 0.
public struct GenePhenotypes: Sendable, Equatable {
  /// Number of traits (`PhenotypeParameter.count`).
  public let traitCount: Int
  /// Unit direction of each complex, [K, P] row-major.
  public let complexDirections: [Float]
  /// Strength of each complex (trait standard deviations, before the gene factor), [K].
  public let complexStrengths: [Float]
  /// Shift vector of each gene, [G, P] row-major; zero for the control and for null genes.
  public let vectors: [Float]
  /// Fraction of each gene's cells that show its phenotype, [G].
  public let penetrance: [Float]

  /// Probability that a gene has no effect at all.
  static let nullGeneRate = 0.06
  /// Range of complex strengths, in trait standard deviations.
  static let strengthRange: (Double, Double) = (0.35, 3.0)
  /// Standard deviation of the gene noise vector's norm.
  static let geneNoise: Float = 0.45

  /// Draws the phenotypes.
  ///
  /// - Parameters:
  ///   - complexOfGene: complex index of each gene, -1 for none; the control is `controlIndex`.
  ///   - complexCount: number of complexes K.
  ///   - controlIndex: the control gene's index.
  ///   - strength: `--phenotype-strength`.
  ///   - seed: the simulation seed.
  init(complexOfGene: [Int], complexCount: Int, controlIndex: Int, strength: Double, seed: UInt64) {
    let p = PhenotypeParameter.count
    traitCount = p
    func direction(_ rng: inout RandomGenerator) -> [Float] {
      var d = (0..<p).map { _ in Float(rng.normal()) }
      var order = Array(0..<p)
      rng.shuffle(&order)
      let primary = 3 + rng.int(below: 4)
      for j in order[primary...] { d[j] *= 0.2 }
      let norm = max(1e-6, d.reduce(0) { $0 + $1 * $1 }.squareRoot())
      return d.map { $0 / norm }
    }
    var directions: [Float] = []
    var ranks = Array(0..<complexCount)
    var strengthRNG = SeedMixer.generator(seed, .complex, -1)
    strengthRNG.shuffle(&ranks)
    var strengths: [Float] = []
    let (lo, hi) = (Self.strengthRange.0.logValue, Self.strengthRange.1.logValue)
    for k in 0..<complexCount {
      var rng = SeedMixer.generator(seed, .complex, k)
      directions += direction(&rng)
      let u = (Double(ranks[k]) + rng.uniform()) / Double(max(1, complexCount))
      strengths.append(Float((lo + (hi - lo) * u).expValue))
    }
    var vectors = [Float](repeating: 0, count: complexOfGene.count * p)
    var penetrance = [Float](repeating: 0, count: complexOfGene.count)
    for (g, k) in complexOfGene.enumerated() where g != controlIndex {
      var rng = SeedMixer.generator(seed, .gene, g)
      let base: [Float]
      let s: Float
      if k >= 0 && k < complexCount {
        base = Array(directions[(k * p)..<((k + 1) * p)])
        s = strengths[k]
      } else {
        base = direction(&rng)
        s = Float((lo + (hi - lo) * rng.uniform()).expValue)
      }
      let factor = Float((0.3 * rng.normal()).expValue)
      let noiseScale = Self.geneNoise / Float(p).squareRoot()
      let noise = (0..<p).map { _ in noiseScale * Float(rng.normal()) }
      let isNull = rng.uniform() < Self.nullGeneRate
      let u = rng.uniform()
      penetrance[g] =
        u < 0.5 ? 1 : (u < 0.75 ? Float(rng.uniform(0.7, 1.0)) : Float(rng.uniform(0.3, 0.7)))
      if isNull { continue }
      let scale = Float(strength) * s * factor
      for j in 0..<p { vectors[g * p + j] = scale * (base[j] + noise[j]) }
    }
    self.complexDirections = directions
    self.complexStrengths = strengths.map { $0 * Float(strength) }
    self.vectors = vectors
    self.penetrance = penetrance
  }

  /// The shift vector of gene `g`.
  public func vector(_ g: Int) -> ArraySlice<Float> {
    vectors[(g * traitCount)..<((g + 1) * traitCount)]
  }

  /// The Euclidean norm of each gene's shift vector (its effect size), [G].
  public var effectSizes: [Float] {
    (0..<penetrance.count).map { g in vector(g).reduce(0) { $0 + $1 * $1 }.squareRoot() }
  }
}

extension Double {
  var logValue: Double { Foundation.log(self) }
  var expValue: Double { Foundation.exp(self) }
}
