import Foundation
import OPSData
import Testing
import TestSupport

/// `grape evaluate` and `grape inspect` on a pycytominer-like per-well table.
@Suite struct EmbeddingInputCLITests {
  /// Two wells per CORUM gene plus a control: `Metadata_Plate`, `Metadata_Well`, `Metadata_gene`,
  /// a quoted note and four features that follow the gene's complex (a complex-specific axis, a
  /// small per-gene offset and a well offset).
  static func profiles(_ path: String) throws -> Int {
    let table = try ComplexTable(contentsOf: RepositoryFiles.corumComplexes)
    var text = "Metadata_Plate,Metadata_Well,Metadata_gene,Metadata_Note,Cells_A,Cells_B,Nuclei_C,Nuclei_D\n"
    var rows = 0
    var genes = table.complexes.enumerated().flatMap { c, complex in complex.genes.map { ($0, c) } }
    genes.append(("nontargeting", -1))
    for well in 0..<2 {
      for (g, (gene, complex)) in genes.enumerated() {
        let features = (0..<4).map { j -> Double in
          let axis = complex >= 0 && j == complex % 4 ? Double(complex / 4 + 1) : 0
          return axis + 0.01 * Double((g * 7 + j * 3) % 11) + 0.05 * Double(well)
        }
        text += "P1,\(well == 0 ? "A" : "B")\(g),\(gene),\"well \(well), \"\"\(gene)\"\"\","
          + features.map { String($0) }.joined(separator: ",") + "\n"
        rows += 1
      }
    }
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return rows
  }

  @Test func evaluateAPycytominerTable() throws {
    let dir = makeTemporaryFolder("cli-inputs")
    let table = "\(dir)/table.csv"
    let rows = try Self.profiles(table)
    let r = try GrapeCommand.run([
      "evaluate", "--embedding", table, "--gene-column", "Metadata_gene", "--out", "\(dir)/ev", "--restarts", "3",
      "--k-range", "none", "--no-figures",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("table.csv: genes from column 'Metadata_gene', 4 feature columns, 3 ignored"), "\(r.stdout)")
    #expect(r.stdout.contains("aggregated \(rows) rows to \(rows / 2) genes by mean"), "\(r.stdout)")
    let metrics = "\(dir)/ev/metrics.json"
    #expect(FileManager.default.fileExists(atPath: metrics))
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics))) as? [String: Any])
    #expect(json["n_genes"] as? Int == 105)

    let inspect = try GrapeCommand.run(["inspect", table])
    #expect(inspect.status == 0, "\(inspect.stderr)")
    #expect(inspect.stdout.contains("\(rows) rows × 4, \(rows / 2) genes"), "\(inspect.stdout)")

    // A gene column the table lacks is one error line naming the file and the columns.
    let bad = try GrapeCommand.run(["evaluate", "--embedding", table, "--gene-column", "symbol", "--out", "\(dir)/ev2"])
    #expect(bad.status != 0)
    #expect(bad.stderr.hasPrefix("error: \(table) row 1: no gene column 'symbol' among the columns 'Metadata_Plate'"), "\(bad.stderr)")
    #expect(bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/ev2/metrics.json"))
  }
}
