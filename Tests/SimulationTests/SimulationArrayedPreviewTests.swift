import Foundation
import Testing
import TestSupport

@testable import Simulation
import OPSData

@Suite struct SimulationArrayedPreviewTests {
  @Test func arrayedScreensAddGridsByExperimentAndByCellLine() throws {
    let dir = FileManager.default.temporaryDirectory
      .appendingPathComponent("grape-arrayed-preview-\(getpid())")
    defer { try? FileManager.default.removeItem(at: dir) }
    var config = SimFixtures.smallConfig(size: 16)
    config.arrayed = ArrayedScreenConfig(
      experiments: 3, cellLines: 3, wellsPerGene: 1, cellsPerWell: 1)
    let table = try SimFixtures.smallTable(complexes: 3, genes: 2)
    let files = try renderExampleGrids(config: config, complexes: table, outDir: dir)
    #expect(files.map(\.lastPathComponent).suffix(2) == ["experiments.png", "cell_lines.png"])
    let tile = 96
    func grid(_ columns: Int, _ rows: Int) -> (Int, Int) {
      (columns * tile + (columns + 1) * 2, rows * tile + (rows + 1) * 2)
    }
    // One row per experiment; two rows (control, a gene) per cell line.
    for (url, size) in zip(files.suffix(2), [grid(8, 3), grid(8, 6)]) {
      let decoded = try PNGTestReader.decode([UInt8](Data(contentsOf: url)))
      #expect(decoded.width == size.0 && decoded.height == size.1, "\(url.lastPathComponent)")
      #expect(Set(decoded.pixels).count > 100)
    }
    let again = try renderExampleGrids(
      config: config, complexes: table, outDir: dir.appendingPathComponent("again"))
    for (a, b) in zip(files, again) { #expect(try Data(contentsOf: a) == Data(contentsOf: b)) }
    // A pooled screen writes no arrayed grids.
    let pooled = try ScreenSimulator(config: SimFixtures.smallConfig(), complexes: table)
    #expect(try pooled.renderArrayedGrids(outDir: dir.appendingPathComponent("pooled")).isEmpty)
  }
}
