import Foundation
import Testing

@testable import Simulation
import OPSData

/// In an arrayed screen simple intensity statistics tell the experiment and the cell line of a
/// cell far better than chance, while the gene signal stays recoverable after a per-experiment
/// correction; `--cell-line-effect 0` makes the lines of one experiment set alike.
/// (Evaluation/simulator.md records the figures of a 12-experiment screen.)
@Suite struct SimulationArrayedSeparabilityTests {
  struct Result {
    var report: SeparabilityReport
    var lineAccuracy: Double
  }

  static func measure(lineEffect: Double) throws -> Result {
    var c = SimFixtures.smallConfig(size: 16, seed: 21)
    c.phenotypeStrength = 2
    c.controls = 2
    c.arrayed = ArrayedScreenConfig(
      experiments: 4, cellLines: 2, wellsPerGene: 2, cellsPerWell: 5, cellLineEffect: lineEffect)
    let sim = try ScreenSimulator(
      config: c, complexes: SimFixtures.smallTable(complexes: 5, genes: 4))
    let s = try SimFixtures.collect(sim, chunkSize: 256)
    let features = s.chunks.flatMap(ScreenSimulator.intensityFeatures)
    let gene = s.gene.map(Int.init)
    let batch = s.batch.map(Int.init)
    let report = sim.separability(features: features, gene: gene, batch: batch)
    let f = sim.intensityFeatureCount
    let z = Diagnostics.standardise(features.map(Double.init), rows: s.count, cols: f)
    let line = s.chunks.compactMap(\.cellLine).flatMap { $0 }.map(Int.init)
    let lineAccuracy = Diagnostics.nearestCentroidAccuracy(
      z, rows: s.count, cols: f, labels: line, classes: 2)
    return Result(report: report, lineAccuracy: lineAccuracy)
  }

  @Test func experimentsAndLinesAreEasyToTellApartAndGenesStillCarrySignal() throws {
    let r = try Self.measure(lineEffect: 1)
    #expect(r.report.cells == 4 * (20 * 2 + 2 * 2) * 5)
    #expect(r.report.batchAccuracy > 2 * r.report.batchChance)
    #expect(r.lineAccuracy > 0.75)
    #expect(r.report.featureMAP > r.report.randomMAP + 0.1)
    #expect(r.report.truthMAP > 0.7)
  }

  @Test func withoutLineEffectTheLinesAreHarderToTell() throws {
    let with = try Self.measure(lineEffect: 1)
    let without = try Self.measure(lineEffect: 0)
    #expect(without.lineAccuracy < with.lineAccuracy)
  }
}
