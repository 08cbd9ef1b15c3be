import Foundation
import OPSData
import Testing
import TestSupport

/// `grape features --cells-out` and `grape profile` end to end on a small simulated screen.
@Suite struct ProfileCLITests {
  static func screen(_ dir: String) throws -> String {
    let r = try GrapeCommand.run([
      "simulate", "--out", "\(dir)/s.h5", "--size", "16", "--cells-per-gene", "3", "--controls", "90", "--batches", "3",
      "--quiet", "--seed", "7",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    return "\(dir)/s.h5"
  }

  @Test func featuresCellsOutThenProfile() throws {
    let dir = makeTemporaryFolder("cli-profile")
    let store = try Self.screen(dir)
    for ext in ["csv", "h5", "h5ad"] {
      let f = try GrapeCommand.run(["features", "--data", store, "--out", "\(dir)/f_\(ext).h5", "--components", "4", "--cells-out", "\(dir)/cells.\(ext)"])
      #expect(f.status == 0, "\(f.stderr)")
      #expect(f.stdout.contains("features to \(dir)/cells.\(ext)"))
    }
    let header = try String(contentsOfFile: "\(dir)/cells.csv", encoding: .utf8).prefix { $0 != "\n" }
    #expect(header.hasPrefix("Metadata_gene,Metadata_batch,Metadata_plate,Metadata_well,Metadata_cell,DNA_mean,DNA_std,"))
    // No step: the per-gene means of the per-cell features.
    let p = try GrapeCommand.run(["profile", "--cells", "\(dir)/cells.h5", "--out", "\(dir)/plain.tsv"])
    #expect(p.status == 0, "\(p.stderr)")
    let plain = try GeneEmbedding.read(from: "\(dir)/plain.tsv")
    #expect(plain.count == 106 && plain.dimension == 4 * 14 + 5)
    // The same from the table.
    let t = try GrapeCommand.run(["profile", "--cells", "\(dir)/cells.csv", "--out", "\(dir)/plain_csv.tsv"])
    #expect(t.status == 0, "\(t.stderr)")
    let fromTable = try GeneEmbedding.read(from: "\(dir)/plain_csv.tsv")
    #expect(Set(fromTable.genes) == Set(plain.genes))
    // And from the AnnData file, its control read from uns.
    let a = try GrapeCommand.run(["profile", "--cells", "\(dir)/cells.h5ad", "--out", "\(dir)/plain_h5ad.tsv", "--normalize", "standardize"])
    #expect(a.status == 0 && a.stdout.contains("(AnnData X), 3 batches, control 'nontargeting'"), "\(a.stdout) \(a.stderr)")
    let s = try GrapeCommand.run(["profile", "--cells", "\(dir)/cells.h5", "--out", "\(dir)/std_h5.tsv", "--normalize", "standardize"])
    #expect(s.status == 0, "\(s.stderr)")
    let fromH5AD = try GeneEmbedding.read(from: "\(dir)/plain_h5ad.tsv")
    let fromH5 = try GeneEmbedding.read(from: "\(dir)/std_h5.tsv")
    #expect(fromH5AD.genes == fromH5.genes && fromH5AD.values == fromH5.values)
    // Every step.
    let all = try GrapeCommand.run([
      "profile", "--cells", "\(dir)/cells.h5", "--out", "\(dir)/all.h5ad", "--normalize", "robust", "--feature-select",
      "variance,correlation", "--sphere", "--harmony", "--harmony-components", "10", "--aggregate", "median",
      "--cells-out", "\(dir)/processed.h5",
    ])
    #expect(all.status == 0, "\(all.stderr)")
    #expect(try GeneEmbedding.read(from: "\(dir)/all.h5ad").dimension == 10)
    #expect(try CellCodes.read(from: "\(dir)/processed.h5").dimension == 10)
    // Errors: one line naming the flag, the batch or the feature.
    let bad = try GrapeCommand.run(["profile", "--cells", "\(dir)/cells.h5", "--out", "\(dir)/bad.h5", "--feature-select", "variance,nope"])
    #expect(bad.status != 0 && bad.stderr.contains("--feature-select") && bad.stderr.contains("nope"), "\(bad.stderr)")
    let noControl = try GrapeCommand.run(["profile", "--cells", "\(dir)/cells.h5", "--out", "\(dir)/bad.h5", "--control", "NOPE"])
    #expect(noControl.status == 1 && noControl.stderr.contains("NOPE"), "\(noControl.stderr)")
    // A batch without control cells, and a NaN: one line naming the batch, the feature.
    let codes = try CellCodes(
      name: "features", values: [1, 2, 3, 4, 5, 6, 7, 8], dimension: 2, geneOfCell: [0, 1, 0, 1], batchOfCell: [0, 0, 1, 1],
      genes: ["nontargeting", "G"], batches: ["P1", "P2"])
    let noControls = try CellCodes(
      name: "features", values: codes.values, dimension: 2, geneOfCell: [0, 1, 1, 1], batchOfCell: [0, 0, 1, 1],
      genes: ["nontargeting", "G"], batches: ["P1", "P2"])
    try noControls.write(to: "\(dir)/nocontrols.h5", fields: [], provenance: OutputProvenance(), columnNames: ["DNA_mean", "DNA_std"])
    let missing = try GrapeCommand.run(["profile", "--cells", "\(dir)/nocontrols.h5", "--out", "\(dir)/bad.h5", "--normalize", "standardize"])
    #expect(missing.status == 1 && missing.stderr.contains("batch 'P2' has no control cells ('nontargeting')"), "\(missing.stderr)")
    #expect(missing.stderr.split(separator: "\n").count == 1)
    var nanValues = codes.values
    nanValues[5] = .nan
    try CellCodes(
      name: "features", values: nanValues, dimension: 2, geneOfCell: codes.geneOfCell, batchOfCell: codes.batchOfCell,
      genes: codes.genes, batches: codes.batches
    ).write(to: "\(dir)/nan.h5", fields: [], provenance: OutputProvenance(), columnNames: ["DNA_mean", "DNA_std"])
    let nan = try GrapeCommand.run(["profile", "--cells", "\(dir)/nan.h5", "--out", "\(dir)/bad.h5"])
    #expect(nan.status == 1 && nan.stderr.contains("cell 2 (batch 'P2'): feature 'DNA_std' is NaN"), "\(nan.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/bad.h5"))
  }

  @Test(.enabled(if: Python.available(["pandas", "numpy"]), "needs python3 with pandas and numpy (make test installs them)"))
  func pandasReadsTheCellTable() throws {
    let dir = makeTemporaryFolder("cli-profile-pandas")
    let store = try Self.screen(dir)
    let f = try GrapeCommand.run(["features", "--data", store, "--out", "\(dir)/f.h5", "--cells-out", "\(dir)/cells.csv"])
    #expect(f.status == 0, "\(f.stderr)")
    let p = try GrapeCommand.run(["profile", "--cells", "\(dir)/cells.csv", "--out", "\(dir)/means.csv"])
    #expect(p.status == 0, "\(p.stderr)")
    // pandas reads the table with its Metadata_ columns; the per-gene means of its feature columns
    // (pycytominer.aggregate's operation, and pycytominer's own when it is installed) are grape
    // profile's rows.
    let script = """
      import sys, importlib.util, numpy as np, pandas as pd
      df = pd.read_csv(sys.argv[1])
      meta = [c for c in df.columns if c.startswith("Metadata_")]
      assert meta == ["Metadata_gene", "Metadata_batch", "Metadata_plate", "Metadata_well", "Metadata_cell"], meta
      feats = [c for c in df.columns if not c.startswith("Metadata_")]
      assert feats[0] == "DNA_mean" and len(feats) == 61, feats[:3]
      assert df[feats].notna().all().all()
      means = df.groupby("Metadata_gene", sort=False)[feats].mean()
      if importlib.util.find_spec("pycytominer"):
          from pycytominer import aggregate
          agg = aggregate(df, strata=["Metadata_gene"], features=feats, operation="mean").set_index("Metadata_gene")
          assert np.allclose(agg.loc[means.index, feats].to_numpy(), means.to_numpy(), rtol=1e-6, atol=1e-6)
      grape = pd.read_csv(sys.argv[2]).set_index("gene")
      diff = np.abs(grape.loc[means.index].to_numpy() - means.to_numpy()) / (1e-6 + np.abs(means.to_numpy()))
      print(len(means), df["Metadata_batch"].nunique(), float(diff.max()))
      """
    let out = try Python.run(script, arguments: ["\(dir)/cells.csv", "\(dir)/means.csv"])
    let parts = out.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
    #expect(parts.count == 3 && parts[0] == "106" && parts[1] == "3", "\(out)")
    #expect((Double(parts.last ?? "") ?? 1) < 1e-5, "\(out)")
  }
}
