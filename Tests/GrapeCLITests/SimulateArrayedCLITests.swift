import Foundation
import OPSData
import Testing
import TestSupport

/// `grape simulate --layout arrayed` end to end: the store's experiments, wells and cell lines,
/// determinism, and flags out of range.
@Suite struct SimulateArrayedCLITests {
  func simulate(_ dir: String, _ extra: [String] = []) throws -> CommandResult {
    try GrapeCommand.run(
      [
        "simulate", "--out", "\(dir)/s.h5", "--size", "16", "--layout", "arrayed", "--experiments", "4",
        "--cell-lines", "2", "--wells-per-gene", "1", "--cells-per-well", "2", "--quiet",
      ] + extra)
  }

  @Test func storeHoldsExperimentsWellsAndCellLines() throws {
    let a = makeTemporaryFolder("sim-arr-a"), b = makeTemporaryFolder("sim-arr-b")
    let r = try simulate(a, ["--seed", "4"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("4 experiments"), "\(r.stdout)")
    #expect(try simulate(b, ["--seed", "4"]).status == 0)
    let s = try CellStore(path: "\(a)/s.h5")
    #expect(s.batches == ["HEPG2-01", "HEPG2-02", "HUVEC-01", "HUVEC-02"])
    // 105 genes in one well each and the control in 4 wells, 2 cells per well, per experiment.
    #expect(s.count == 4 * (105 + 4) * 2)
    #expect(try s.strings("/truth/cell_line_names") == ["HEPG2", "HUVEC"])
    #expect(try s.array("/truth/batch_cell_line", as: Int32.self).values == [0, 0, 1, 1])
    let line = try s.array("/obs/cell_line", as: Int32.self)
    #expect(line.shape == [s.count])
    let batchLine: [Int32] = [0, 0, 1, 1]
    #expect(line.values == s.batchOfCell.map { batchLine[Int($0)] })
    #expect(try s.array("/truth/cell_line_phenotype_factor", as: Float.self).shape == [2, 106])
    #expect(try s.array("/truth/well_gene", as: Int32.self).shape == [4 * 109])
    let bytesA = try #require(FileManager.default.contents(atPath: "\(a)/s.h5"))
    #expect(bytesA == FileManager.default.contents(atPath: "\(b)/s.h5"), "the same seed gave different bytes")
  }

  @Test(arguments: [
    (["--cell-lines", "0"], "--cell-lines"), (["--cell-lines", "5"], "--cell-lines"),
    (["--experiments", "0"], "--experiments"), (["--wells-per-gene", "0"], "--wells-per-gene"),
    (["--cells-per-well", "-1"], "--cells-per-well"), (["--layout", "plated"], "--layout"),
  ])
  func badValuesNameTheirFlag(_ extra: [String], _ flag: String) throws {
    let d = makeTemporaryFolder("sim-arr-bad")
    let r = try simulate(d, extra)
    #expect(r.status != 0)
    let line = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
    #expect(line.contains(flag), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(d)/s.h5"))
  }
}
