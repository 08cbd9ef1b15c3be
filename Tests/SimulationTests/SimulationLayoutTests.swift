import Foundation
import Testing

@testable import Simulation
import OPSData

@Suite struct SimulationLayoutTests {
  static func simulator(batchEffect: Double, cellsPerGene: Int = 40, batches: Int = 4) throws
    -> ScreenSimulator
  {
    var c = SimFixtures.smallConfig(cellsPerGene: cellsPerGene)
    c.batches = batches
    c.platesPerBatch = 3
    c.batchEffect = batchEffect
    return try ScreenSimulator(config: c, complexes: SimFixtures.smallTable(complexes: 4, genes: 5))
  }

  @Test func everyGeneHasItsCellCount() throws {
    let sim = try Self.simulator(batchEffect: 1)
    let layout = sim.layout
    #expect(sim.geneCount == 21)
    #expect(sim.cellCount == 20 * 40 + 2 * 40)
    for g in 0..<sim.geneCount {
      let n = layout.gene.filter { $0 == g }.count
      #expect(n == (g == sim.controlIndex ? 80 : 40))
      let fromTruth = (0..<4).reduce(0) { $0 + Int(sim.truth.geneBatchCounts[g * 4 + $1]) }
      #expect(fromTruth == n)
      for b in 0..<4 {
        let cells = (0..<sim.cellCount).filter { layout.gene[$0] == g && layout.batch[$0] == b }
          .count
        #expect(cells == Int(sim.truth.geneBatchCounts[g * 4 + b]))
      }
    }
  }

  @Test func representationIsEvenWithoutBatchEffectAndUnevenWithIt() throws {
    let even = try Self.simulator(batchEffect: 0).truth.geneBatchCounts
    for g in 0..<21 {
      let row = even[(g * 4)..<((g + 1) * 4)]
      #expect((row.max() ?? 0) - (row.min() ?? 0) <= 1)
    }
    let uneven = try Self.simulator(batchEffect: 1).truth.geneBatchCounts
    var ratios: [Double] = []
    for g in 0..<21 {
      let row = uneven[(g * 4)..<((g + 1) * 4)]
      ratios.append(Double(row.max() ?? 0) / Double(max(1, row.min() ?? 0)))
    }
    #expect((ratios.max() ?? 0) > 2.5)
  }

  @Test func cellsAreStoredByBatchPlateAndWell() throws {
    let sim = try Self.simulator(batchEffect: 1)
    let l = sim.layout
    var previous = (Int32(-1), Int32(-1), Int32(-1))
    for i in 0..<sim.cellCount {
      let key = (l.batch[i], l.plate[i], l.well[i])
      #expect(key >= previous)
      previous = key
      #expect(l.plate[i] / 3 == l.batch[i])
      #expect((0..<6).contains(l.well[i]))
    }
    // All plates and wells are used.
    #expect(Set(l.plate).count == 12)
    #expect(Set(l.well).count == 6)
    // Within a well, genes are mixed rather than sorted.
    let firstWell = (0..<sim.cellCount).filter { l.plate[$0] == 0 && l.well[$0] == 0 }.map {
      l.gene[$0]
    }
    #expect(firstWell != firstWell.sorted())
  }

  @Test func truthDatasetsHaveConsistentShapes() throws {
    let sim = try Self.simulator(batchEffect: 1)
    let t = sim.truth
    var paths: [String: [Int]] = [:]
    for d in t.datasets {
      paths[d.path] = d.values.shape
      switch d.values {
      case .int32(let v, let shape): #expect(v.count == shape.reduce(1, *), "\(d.path)")
      case .float32(let v, let shape): #expect(v.count == shape.reduce(1, *), "\(d.path)")
      case .strings(let v): #expect(!v.isEmpty, "\(d.path)")
      }
    }
    let g = 21
    let p = PhenotypeParameter.count
    let e = t.effectNames.count
    #expect(paths["/genes"] == [g])
    #expect(paths["/batches"] == [4])
    #expect(paths["/truth/complex"] == [g])
    #expect(paths["/truth/complex_names"] == [4])
    #expect(paths["/truth/phenotype"] == [g, p])
    #expect(paths["/truth/phenotype_names"] == [p])
    #expect(paths["/truth/complex_direction"] == [4, p])
    #expect(paths["/truth/gene_batch_counts"] == [g, 4])
    #expect(paths["/truth/batch_effect"] == [4, e])
    #expect(paths["/truth/plate_effect"] == [12, e])
    #expect(paths["/truth/plate_names"] == [12])
    #expect(e == 17)
    #expect(t.effectNames.first == "gain_dna" && t.effectNames.last == "debris_rate")
    #expect(t.effectNames.contains("gain_f_actin") && t.effectNames.contains("offset_dna_damage"))
    #expect(t.batchNames == ["B1", "B2", "B3", "B4"])
    #expect(t.plateNames[3] == "B2-P1" && t.plateBatch[3] == 1)
    #expect(t.channelNames == ["DNA", "DNA-damage", "microtubules", "F-actin"])
    let decoded = try JSONDecoder().decode(SimulationConfig.self, from: Data(t.configJSON.utf8))
    #expect(decoded == sim.config)
    // The complex of each gene matches the table.
    #expect(t.complexOfGene[0] == 0 && t.complexOfGene[19] == 3 && t.complexOfGene[20] == -1)
  }

  @Test func batchEffectZeroImagesEveryPlateAlike() throws {
    let flat = try Self.simulator(batchEffect: 0)
    let e = flat.truth.effectNames.count
    let first = Array(flat.truth.plateEffects[0..<e])
    for plate in 0..<12 {
      #expect(Array(flat.truth.plateEffects[(plate * e)..<((plate + 1) * e)]) == first)
    }
    #expect(first == ImagingConditions.baseline().vector)
    let varied = try Self.simulator(batchEffect: 1)
    let gains = (0..<4).map { varied.batchConditions[$0].gain[0] }
    #expect(Set(gains).count == 4)
    // Plates deviate from their batch less than batches deviate from each other.
    func logGainSpread(_ values: [Float]) -> Float {
      let logs = values.map { Foundation.log($0) }
      let mean = logs.reduce(0, +) / Float(logs.count)
      return (logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(logs.count)).squareRoot()
    }
    var withinPlate: [Float] = []
    for b in 0..<4 {
      for p in 0..<3 {
        withinPlate.append(
          Foundation.log(
            varied.plateConditions[b * 3 + p].gain[1] / varied.batchConditions[b].gain[1]))
      }
    }
    let plateSpread = (withinPlate.map { $0 * $0 }.reduce(0, +) / Float(withinPlate.count))
      .squareRoot()
    let batchSpread = logGainSpread((0..<4).flatMap { b in varied.batchConditions[b].gain })
    #expect(plateSpread < batchSpread)
  }
}
