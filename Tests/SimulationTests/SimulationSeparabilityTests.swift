import Foundation
import Testing

@testable import Simulation
import OPSData

/// Simple intensity statistics reveal the batch far better than chance while the gene signal stays
/// recoverable; `--batch-effect 0` and `--phenotype-strength 0` remove each. (A screen small enough
/// for a debug-build test needs phenotype strength 2 for 8 features to show complexes clearly;
/// Evaluation/simulator.md records the full-size figures at the defaults.)
@Suite struct SimulationSeparabilityTests {
  static func report(batchEffect: Double, phenotypeStrength: Double) throws -> SeparabilityReport {
    var c = SimFixtures.smallConfig(size: 16, cellsPerGene: 40, seed: 21)
    c.batches = 3
    c.batchEffect = batchEffect
    c.phenotypeStrength = phenotypeStrength
    let sim = try ScreenSimulator(
      config: c, complexes: SimFixtures.smallTable(complexes: 5, genes: 4))
    return try sim.measureSeparability(chunkSize: 128, threads: 2)
  }

  @Test func batchesAreEasyToTellApartAndGenesStillCarrySignal() throws {
    let r = try Self.report(batchEffect: 1, phenotypeStrength: 2)
    #expect(r.cells == 22 * 40)
    #expect(r.batchAccuracy > 2 * r.batchChance)
    #expect(r.batchAccuracy > 0.7)
    #expect(r.featureMAP > r.randomMAP + 0.1)
    #expect(r.truthMAP > 0.7)
  }

  @Test func withoutBatchEffectsBatchesAreIndistinguishable() throws {
    let r = try Self.report(batchEffect: 0, phenotypeStrength: 2)
    #expect(r.batchAccuracy < r.batchChance + 0.1)
    #expect(r.featureMAP > r.randomMAP + 0.1)
  }

  @Test func withoutPhenotypesGenesCarryNoSignal() throws {
    let r = try Self.report(batchEffect: 1, phenotypeStrength: 0)
    #expect(r.batchAccuracy > 0.7)
    #expect(abs(r.featureMAP - r.randomMAP) < 0.1)
  }

  @Test func diagnosticsHelpersAreCorrectOnKnownInputs() {
    #expect(Diagnostics.averagePrecision([true, false, true]) == (1.0 + 2.0 / 3.0) / 2)
    #expect(Diagnostics.averagePrecision([false, false]) == nil)
    // Two perfectly separated complexes of two genes each, plus a gene in no complex.
    let x: [Double] = [1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9, 0.5, 0.5]
    #expect(Diagnostics.complexMAP(x, cols: 2, complexOf: [0, 0, 1, 1, -1]) == 1)
    #expect(Diagnostics.complexMAP(x, cols: 2, complexOf: [0, 1, 0, 1, -1]) < 0.6)
    // Nearest centroid on two separated clusters (both folds see both classes).
    let points: [Double] = [0, 0, 0.1, 0, 10, 10, 10, 10.1, 0, 0.2, 9.9, 10]
    let labels = [0, 0, 1, 1, 0, 1]
    #expect(
      Diagnostics.nearestCentroidAccuracy(points, rows: 6, cols: 2, labels: labels, classes: 2) == 1
    )
    #expect(
      Diagnostics.nearestCentroidAccuracy(
        points, rows: 6, cols: 2, labels: [0, 1, 1, 0, 1, 0], classes: 2) < 0.5)
    let z = Diagnostics.standardise([1, 10, 3, 20, 5, 30], rows: 3, cols: 2)
    #expect(abs(z[0] + z[4]) < 1e-12 && abs(z[2]) < 1e-12 && abs(z[1] + 1.224744871391589) < 1e-9)
  }
}
