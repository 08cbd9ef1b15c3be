import Foundation
import Testing
import TestSupport

@testable import Simulation
import OPSData

@Suite struct SimulationPreviewTests {
  @Test func exampleGridsAreValidPNGsOfTheDocumentedLayout() throws {
    let dir = FileManager.default.temporaryDirectory
      .appendingPathComponent("grape-preview-\(getpid())-\(UInt32(truncatingIfNeeded: #line))")
    defer { try? FileManager.default.removeItem(at: dir) }
    var config = SimFixtures.smallConfig(size: 16)
    config.batches = 3
    let table = try SimFixtures.smallTable(complexes: 3, genes: 2)
    let files = try renderExampleGrids(config: config, complexes: table, outDir: dir)
    #expect(
      files.map(\.lastPathComponent) == [
        "complexes.png", "batches.png", "traits.png", "channels.png",
      ])
    // Tiles are scaled to 96 pixels (16 × 6) with 2-pixel gaps.
    let tile = 96
    func grid(_ columns: Int, _ rows: Int) -> (Int, Int) {
      (columns * tile + (columns + 1) * 2, rows * tile + (rows + 1) * 2)
    }
    let expected = [grid(8, 4), grid(8, 3), grid(7, PhenotypeParameter.count), grid(5, 6)]
    for (url, size) in zip(files, expected) {
      let decoded = try PNGTestReader.decode([UInt8](Data(contentsOf: url)))
      #expect(decoded.width == size.0 && decoded.height == size.1, "\(url.lastPathComponent)")
      #expect(decoded.colorType == 2)
      // Not blank: the crops have structure.
      #expect(Set(decoded.pixels).count > 100)
    }
    // The same configuration writes the same bytes.
    let again = dir.appendingPathComponent("again")
    let second = try renderExampleGrids(config: config, complexes: table, outDir: again)
    for (a, b) in zip(files, second) { #expect(try Data(contentsOf: a) == Data(contentsOf: b)) }
  }
}
