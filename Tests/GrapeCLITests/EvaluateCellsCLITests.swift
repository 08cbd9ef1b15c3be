import Foundation
import OPSData
import Testing
import TestSupport

/// `grape evaluate --cells` on the per-cell AnnData files of `grape encode` and `grape features
/// --cells-out`: the same metrics as from their HDF5 twins.
@Suite(.serialized) struct EvaluateCellsCLITests {
  static let quick = ["--restarts", "1", "--k-range", "none", "--no-figures", "--null-size", "0"]

  static func metrics(_ dir: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/metrics.json"))) as? [String: Any])
  }

  /// The values of the contract's keys that a per-cell evaluation writes.
  static func scores(_ json: [String: Any]) -> [String] {
    let batch = json["batch"] as? [String: Any] ?? [:]
    return [json["n_genes"], json["map"], batch["asw"], batch["knn_accuracy"], batch["chance"], batch["graph_connectivity"]].map { "\($0 ?? "missing")" }
  }

  @Test func encodeAndFeaturesH5ADGiveTheMetricsOfTheirHDF5() throws {
    let dir = makeTemporaryFolder("cli-eval-h5ad")
    let s = try GrapeCommand.run(["simulate", "--out", "\(dir)/s.h5", "--size", "16", "--cells-per-gene", "3", "--batches", "2", "--quiet", "--seed", "5"])
    #expect(s.status == 0, "\(s.stderr)")
    let store = "\(dir)/s.h5"
    let t = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/run", "--preset", "tiny", "--steps", "0"])
    #expect(t.status == 0, "\(t.stderr)")
    for ext in ["h5", "h5ad"] {
      let e = try GrapeCommand.run(["encode", "--run", "\(dir)/run", "--data", store, "--out", "\(dir)/codes.\(ext)"])
      #expect(e.status == 0, "\(e.stderr)")
    }
    let f = try GrapeCommand.run(["features", "--data", store, "--out", "\(dir)/f.h5", "--cells-out", "\(dir)/cells.h5ad"])
    #expect(f.status == 0, "\(f.stderr)")
    let f5 = try GrapeCommand.run(["features", "--data", store, "--out", "\(dir)/g.h5", "--cells-out", "\(dir)/cells.h5"])
    #expect(f5.status == 0, "\(f5.stderr)")
    let runs: [(String, [String])] = [
      ("codes_h5", ["--cells", "\(dir)/codes.h5"]),
      ("codes_h5ad", ["--cells", "\(dir)/codes.h5ad"]),
      ("codes_obsm", ["--cells", "\(dir)/codes.h5ad", "--obsm", "X_grape", "--gene-column", "gene", "--batch-column", "batch"]),
      ("cells_h5", ["--cells", "\(dir)/cells.h5", "--codes-dataset", "features"]),
      ("cells_h5ad", ["--cells", "\(dir)/cells.h5ad"]),
    ]
    var scores: [String: [String]] = [:]
    for (name, args) in runs {
      let r = try GrapeCommand.run(["evaluate"] + args + ["--out", "\(dir)/ev_\(name)"] + Self.quick)
      #expect(r.status == 0, "\(name): \(r.stderr)")
      scores[name] = Self.scores(try Self.metrics("\(dir)/ev_\(name)"))
    }
    #expect(scores["codes_h5"]?.contains("missing") == false, "\(scores)")
    #expect(scores["codes_h5ad"] == scores["codes_h5"] && scores["codes_obsm"] == scores["codes_h5"], "\(scores)")
    #expect(scores["cells_h5ad"] == scores["cells_h5"] && scores["cells_h5"]?.contains("missing") == false, "\(scores)")
  }

  /// An AnnData file of another tool: its batch column named, its obsm matrix taken; what is
  /// missing or misplaced is one line naming the file.
  @Test func anAnnDataFixtureAndItsBadInputs() throws {
    let dir = makeTemporaryFolder("cli-eval-h5ad-bad")
    let fixture = RepositoryFiles.root.appendingPathComponent("Tests/OPSDataTests/Fixtures/inputs/per_cell.h5ad").path
    try "complex_id\tcomplex_name\tgene\n1\tAC\tA\n1\tAC\tC\n2\tB\tB\n".write(toFile: "\(dir)/c.tsv", atomically: true, encoding: .utf8)
    let common = ["evaluate", "--cells", fixture, "--complexes", "\(dir)/c.tsv"] + Self.quick
    let ok = try GrapeCommand.run(common + ["--out", "\(dir)/ev", "--batch-column", "Metadata_Plate", "--obsm", "X_grape", "--k", "2"])
    #expect(ok.status == 0, "\(ok.stderr)")
    let json = try Self.metrics("\(dir)/ev")
    #expect(json["n_genes"] as? Int == 3 && (json["batch"] as? [String: Any])?["chance"] != nil, "\(json)")
    let noBatch = try GrapeCommand.run(common + ["--out", "\(dir)/ev2", "--k", "2"])
    #expect(noBatch.status == 1 && noBatch.stderr.contains("\(fixture): obs has no batch column") && noBatch.stderr.contains("--batch-column"), "\(noBatch.stderr)")
    #expect(noBatch.stderr.split(separator: "\n").count == 1, "\(noBatch.stderr)")
    let noObsm = try GrapeCommand.run(common + ["--out", "\(dir)/ev3", "--batch-column", "Metadata_Plate", "--obsm", "X_umap"])
    #expect(noObsm.status == 1 && noObsm.stderr.contains("\(fixture): no obsm/X_umap (obsm holds: 'X_grape')"), "\(noObsm.stderr)")
    let dataset = try GrapeCommand.run(common + ["--out", "\(dir)/ev4", "--codes-dataset", "styles"])
    #expect(dataset.status != 0 && dataset.stderr.contains("--obsm"), "\(dataset.stderr)")
    for out in ["ev2", "ev3", "ev4"] { #expect(!FileManager.default.fileExists(atPath: "\(dir)/\(out)")) }
  }
}
