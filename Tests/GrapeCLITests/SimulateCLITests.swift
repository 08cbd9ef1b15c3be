import Foundation
import OPSData
import Testing
import TestSupport

/// `grape simulate` end to end: the store's schema, determinism, and the TIFF round trip
/// through `grape import`.
@Suite struct SimulateCLITests {
  func simulate(_ dir: String, _ extra: [String] = []) throws -> CommandResult {
    try GrapeCommand.run(
      ["simulate", "--out", "\(dir)/s.h5", "--size", "16", "--cells-per-gene", "2", "--batches", "2", "--quiet"] + extra)
  }

  @Test func schemaDeterminismAndTIFFRoundTrip() throws {
    let a = makeTemporaryFolder("sim-a"), b = makeTemporaryFolder("sim-b")
    let r = try simulate(a, ["--seed", "3", "--tiff-dir", "\(a)/tiffs"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try simulate(b, ["--seed", "3"]).status == 0)
    let s = try CellStore(path: "\(a)/s.h5")
    #expect(s.genes.count == 106 && s.genes.last == "nontargeting" && s.control == "nontargeting")
    #expect(s.count == 105 * 2 + 4 * 2 && s.batches == ["B1", "B2"] && s.cellShape == [4, 16, 16])
    let complex = try s.array("/truth/complex", as: Int32.self)
    #expect(complex.shape == [106] && complex.values.last == -1 && Set(complex.values.dropLast()).count == 14)
    #expect(try s.strings("/truth/complex_names").count == 14)
    // Same seed, same pixels and labels.
    let s2 = try CellStore(path: "\(b)/s.h5")
    let all = Array(0..<s.count)
    #expect(try s.images(at: all) == s2.images(at: all))
    #expect(s.geneOfCell == s2.geneOfCell && s.batchOfCell == s2.batchOfCell)
    // And the same bytes, as `grape simulate --help` promises (the HDF5 layout included).
    let bytesA = try #require(FileManager.default.contents(atPath: "\(a)/s.h5"))
    #expect(bytesA == FileManager.default.contents(atPath: "\(b)/s.h5"), "the same seed gave different bytes")
    // TIFFs and cells.csv import back to the same pixels.
    let imp = try GrapeCommand.run([
      "import", "--table", "\(a)/tiffs/cells.csv", "--images", "\(a)/tiffs", "--out", "\(a)/back.h5", "--control", "nontargeting",
      "--channel-names", "DNA,DNA-damage,microtubules,F-actin", "--quiet",
    ])
    #expect(imp.status == 0, "\(imp.stderr)")
    let back = try CellStore(path: "\(a)/back.h5")
    #expect(try back.images(at: all) == s.images(at: all))
    #expect(back.geneOfCell.map { back.genes[Int($0)] } == s.geneOfCell.map { s.genes[Int($0)] })
  }

  @Test func differentSeedsDiffer() throws {
    let a = makeTemporaryFolder("sim-c"), b = makeTemporaryFolder("sim-d")
    #expect(try simulate(a, ["--seed", "1"]).status == 0)
    #expect(try simulate(b, ["--seed", "2"]).status == 0)
    #expect(try CellStore(path: "\(a)/s.h5").images(at: [0, 1]) != CellStore(path: "\(b)/s.h5").images(at: [0, 1]))
  }

  @Test func invalidFlagsAreNamed() throws {
    let d = makeTemporaryFolder("sim-bad")
    let r = try GrapeCommand.run(["simulate", "--out", "\(d)/s.h5", "--size", "8"])
    #expect(r.status != 0 && r.stderr.contains("--size"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(d)/s.h5"))
    let t = try GrapeCommand.run(["simulate", "--out", "\(d)/s.h5", "--complexes", "\(d)/missing.tsv"])
    #expect(t.status != 0 && t.stderr.contains("missing.tsv"), "\(t.stderr)")
  }
}
