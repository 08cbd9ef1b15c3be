import Foundation
import OPSData
import Testing
import TestSupport

/// `grape features`, `evaluate` and `classify` end to end on a tiny simulated screen.
@Suite struct EvaluateClassifyCLITests {
  static func screen(_ dir: String) throws -> String {
    let r = try GrapeCommand.run(["simulate", "--out", "\(dir)/s.h5", "--size", "16", "--cells-per-gene", "3", "--batches", "2", "--quiet", "--seed", "5"])
    #expect(r.status == 0, "\(r.stderr)")
    return "\(dir)/s.h5"
  }

  @Test func featuresThenEvaluate() throws {
    let dir = makeTemporaryFolder("cli-eval")
    let store = try Self.screen(dir)
    let f = try GrapeCommand.run(["features", "--data", store, "--out", "\(dir)/feat.tsv", "--components", "8"])
    #expect(f.status == 0, "\(f.stderr)")
    #expect(try GeneEmbedding.read(from: "\(dir)/feat.tsv").dimension == 8)
    // Per-batch normalisation by the control cells gives another embedding of the same genes.
    let n = try GrapeCommand.run(["features", "--data", store, "--out", "\(dir)/feat_norm.h5", "--components", "8", "--normalize", "controls"])
    #expect(n.status == 0, "\(n.stderr)")
    let plain = try GeneEmbedding.read(from: "\(dir)/feat.tsv")
    let normalised = try GeneEmbedding.read(from: "\(dir)/feat_norm.h5")
    #expect(normalised.genes == plain.genes && normalised.values != plain.values)
    let badNorm = try GrapeCommand.run(["features", "--data", store, "--out", "\(dir)/feat_bad.h5", "--normalize", "plate"])
    #expect(badNorm.status != 0 && badNorm.stderr.contains("--normalize"), "\(badNorm.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/feat_bad.h5"))
    let e = try GrapeCommand.run([
      "evaluate", "--embedding", "\(dir)/feat.tsv", "--out", "\(dir)/ev", "--restarts", "5", "--k-range", "5-7", "--no-figures",
      "--baseline", "\(dir)/feat.tsv",
    ])
    #expect(e.status == 0, "\(e.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/ev/metrics.json"))) as? [String: Any])
    #expect(json["n_genes"] as? Int == 105 && json["n_complexes"] as? Int == 14)
    #expect((json["kmeans"] as? [String: Any])?["restarts"] as? Int == 5)
    #expect((json["k_sweep"] as? [Any])?.count == 3)
    #expect(json["batch"] == nil)
    #expect(FileManager.default.fileExists(atPath: "\(dir)/ev/report.md"))
    // The field's conventions beside the contract's keys; the control row gives the activity.
    let significance = try #require(json["significance"] as? [String: Any])
    #expect(significance["null_size"] as? Int == 10_000 && significance["fraction_complexes_retrieved"] is Double)
    #expect((json["relationship_recall"] as? [String: Any])?["expected"] as? Double == 0.1)
    #expect((json["activity"] as? [String: Any])?["control"] as? String == "nontargeting")
    let quick = try GrapeCommand.run([
      "evaluate", "--embedding", "\(dir)/feat.tsv", "--out", "\(dir)/ev4", "--restarts", "1", "--k-range", "none", "--no-figures",
      "--null-size", "0", "--control", "RPL18",
    ])
    #expect(quick.status == 0, "\(quick.stderr)")
    let quickJSON = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/ev4/metrics.json"))) as? [String: Any])
    #expect(quickJSON["significance"] == nil && (quickJSON["activity"] as? [String: Any])?["control"] as? String == "RPL18")
    let threshold = try GrapeCommand.run(["evaluate", "--embedding", "\(dir)/feat.tsv", "--out", "\(dir)/ev5", "--threshold", "2"])
    #expect(threshold.status != 0 && threshold.stderr.contains("--threshold"), "\(threshold.stderr)")
    // Numbers beyond any use are refused before any work; a k range past the genes is cut to them.
    let restarts = try GrapeCommand.run(["evaluate", "--embedding", "\(dir)/feat.tsv", "--out", "\(dir)/ev2", "--restarts", "1000000000"])
    #expect(restarts.status != 0 && restarts.stderr.contains("--restarts must lie in 1...100000"), "\(restarts.stderr)")
    let wide = try GrapeCommand.run([
      "evaluate", "--embedding", "\(dir)/feat.tsv", "--out", "\(dir)/ev3", "--restarts", "1", "--k-range", "104-100000000", "--no-figures",
    ])
    #expect(wide.status == 0, "\(wide.stderr)")
    // Exactly one of --embedding and --cells.
    let bad = try GrapeCommand.run(["evaluate", "--out", "\(dir)/x"])
    #expect(bad.status != 0 && bad.stderr.contains("--embedding"), "\(bad.stderr)")
  }

  @Test func classifyTrainAndEvaluate() throws {
    let dir = makeTemporaryFolder("cli-classify")
    let store = try Self.screen(dir)
    let t = try GrapeCommand.run([
      "classify", "train", "--data", store, "--run", "\(dir)/run", "--method", "abra", "--holdout-batches", "B2", "--steps", "3",
      "--batch-size", "8",
    ])
    #expect(t.status == 0, "\(t.stderr)")
    // A second fresh run into the same folder is refused and leaves the trained one as it was.
    let latest = try String(contentsOfFile: "\(dir)/run/checkpoints/latest", encoding: .utf8)
    let again = try GrapeCommand.run(["classify", "train", "--data", store, "--run", "\(dir)/run", "--method", "erm", "--steps", "1"])
    #expect(again.status != 0 && again.stderr.contains("already holds a trained run") && again.stderr.contains("--resume"), "\(again.stderr)")
    #expect(try String(contentsOfFile: "\(dir)/run/checkpoints/latest", encoding: .utf8) == latest)
    #expect(try String(contentsOfFile: "\(dir)/run/config.json", encoding: .utf8).contains(#""method" : "abra""#))
    let e = try GrapeCommand.run([
      "classify", "evaluate", "--run", "\(dir)/run", "--data", store, "--out", "\(dir)/ev", "--tta", "--tta-batch", "8", "--no-curve",
      "--features-out", "\(dir)/feat.h5", "--statistics-out", "\(dir)/stats.tsv",
    ])
    #expect(e.status == 0, "\(e.stderr)")
    let stats = try String(contentsOfFile: "\(dir)/stats.tsv", encoding: .utf8).split(separator: "\n")
    #expect(stats.first?.hasPrefix("batch\theld_out") == true && stats.contains { $0.hasPrefix("B2\t1\t") }, "\(stats.prefix(3))")
    let badStats = try GrapeCommand.run(["classify", "evaluate", "--run", "\(dir)/run", "--data", store, "--out", "\(dir)/ev2", "--statistics-out", "\(dir)/s.h5"])
    #expect(badStats.status != 0 && badStats.stderr.contains("--statistics-out"), "\(badStats.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/ev2"))
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/ev/metrics.json"))) as? [String: Any])
    #expect(json["method"] as? String == "abra" && json["tta"] as? Bool == true)
    #expect((json["per_batch"] as? [String: Any])?.keys.sorted() == ["B2"])
    let acc = try #require(json["accuracy"] as? Double)
    #expect(acc >= 0 && acc <= 1)
    #expect(FileManager.default.fileExists(atPath: "\(dir)/feat.h5"))
    // An unknown held-out batch is named.
    let bad = try GrapeCommand.run(["classify", "train", "--data", store, "--run", "\(dir)/r2", "--holdout-batches", "B9", "--steps", "1"])
    #expect(bad.status != 0 && bad.stderr.contains("B9"), "\(bad.stderr)")
    // Training on some experiments only, fed per-image standardised crops; a batch both trained
    // on and held out is refused before anything is written.
    let some = try GrapeCommand.run([
      "classify", "train", "--data", store, "--run", "\(dir)/r5", "--method", "erm", "--holdout-batches", "B2", "--train-batches", "B1",
      "--steps", "1", "--batch-size", "8", "--input-normalization", "image",
    ])
    #expect(some.status == 0, "\(some.stderr)")
    let someConfig = try String(contentsOfFile: "\(dir)/r5/config.json", encoding: .utf8)
    #expect(someConfig.contains(#""train_batches" : ["#) && someConfig.contains(#""kind" : "image""#), "\(someConfig)")
    let both = try GrapeCommand.run([
      "classify", "train", "--data", store, "--run", "\(dir)/r6", "--holdout-batches", "B2", "--train-batches", "B1,B2", "--steps", "1",
    ])
    #expect(both.status != 0 && both.stderr.contains("'B2'") && both.stderr.contains("held out"), "\(both.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/r6/config.json"))
    // --config sets any field (here ABRA's loss terms and position); a misspelt field is named.
    try #"{"abra_terms": "ce", "perturb_stage": 2}"#.write(toFile: "\(dir)/ablation.json", atomically: true, encoding: .utf8)
    let ablated = try GrapeCommand.run([
      "classify", "train", "--data", store, "--run", "\(dir)/r3", "--holdout-batches", "B2", "--steps", "1", "--batch-size", "8",
      "--config", "\(dir)/ablation.json",
    ])
    #expect(ablated.status == 0, "\(ablated.stderr)")
    let saved = try String(contentsOfFile: "\(dir)/r3/config.json", encoding: .utf8)
    #expect(saved.contains(#""abra_terms" : "ce""#) && saved.contains(#""perturb_stage" : 2"#), "\(saved)")
    // plate_groups: ABRA on mini-batches of two plate-consistent groups, drawn by the run's sampler.
    try #"{"plate_groups": 2}"#.write(toFile: "\(dir)/groups.json", atomically: true, encoding: .utf8)
    let grouped = try GrapeCommand.run([
      "classify", "train", "--data", store, "--run", "\(dir)/r7", "--method", "abra", "--holdout-batches", "B2", "--steps", "2",
      "--batch-size", "8", "--config", "\(dir)/groups.json",
    ])
    #expect(grouped.status == 0, "\(grouped.stderr)")
    #expect(try String(contentsOfFile: "\(dir)/r7/config.json", encoding: .utf8).contains(#""plate_groups" : 2"#))
    try #"{"abra_term": "ce"}"#.write(toFile: "\(dir)/typo.json", atomically: true, encoding: .utf8)
    let typo = try GrapeCommand.run([
      "classify", "train", "--data", store, "--run", "\(dir)/r4", "--steps", "1", "--config", "\(dir)/typo.json",
    ])
    #expect(typo.status != 0 && typo.stderr.contains("abra_term") && !FileManager.default.fileExists(atPath: "\(dir)/r4/config.json"), "\(typo.stderr)")
  }

  @Test func classifyValidationSplitLeversAndBaseline() throws {
    let dir = makeTemporaryFolder("cli-classify-val")
    let store = try Self.screen(dir)
    let t = try GrapeCommand.run([
      "classify", "train", "--data", store, "--run", "\(dir)/run", "--method", "erm", "--holdout-batches", "B2", "--steps", "2",
      "--batch-size", "8", "--validation-fraction", "0.2", "--lr-schedule", "cosine", "--warmup-steps", "1", "--label-smoothing", "0.1",
      "--input-normalization", "controls",
    ])
    #expect(t.status == 0, "\(t.stderr)")
    let saved = try String(contentsOfFile: "\(dir)/run/config.json", encoding: .utf8)
    for field in [#""validation_fraction" : 0.2"#, #""lr_schedule" : "cosine""#, #""input_normalization" : "controls""#, #""kind" : "controls""#] {
      #expect(saved.contains(field), "\(field) missing from \(saved)")
    }
    let e = try GrapeCommand.run(["classify", "evaluate", "--run", "\(dir)/run", "--data", store, "--out", "\(dir)/ev"])
    #expect(e.status == 0 && e.stdout.contains("validation"), "\(e.stderr)")
    let m = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/ev/metrics.json"))) as? [String: Any])
    let validationCells = try #require(m["validation_cells"] as? Int)
    #expect(validationCells > 0 && m["train_accuracy"] is Double && m["validation_accuracy"] is Double && m["accuracy"] is Double)
    // The baseline scores the run's own cells.
    let b = try GrapeCommand.run(["classify", "baseline", "--data", store, "--run", "\(dir)/run", "--out", "\(dir)/lr"])
    #expect(b.status == 0, "\(b.stderr)")
    let lr = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/lr/metrics.json"))) as? [String: Any])
    #expect(lr["method"] as? String == "logistic" && lr["validation_cells"] as? Int == validationCells)
    #expect(lr["train_cells"] as? Int == m["train_cells"] as? Int && (lr["per_batch"] as? [String: Any])?.keys.sorted() == ["B2"])
    #expect((lr["baseline"] as? [String: Any])?["converged"] as? Bool == true)
    // Out-of-range or conflicting settings: one line naming the flag, nothing written.
    let bad = try GrapeCommand.run(["classify", "train", "--data", store, "--run", "\(dir)/r2", "--validation-fraction", "1.5", "--steps", "1"])
    #expect(bad.status != 0 && bad.stderr.contains("--validation-fraction") && !FileManager.default.fileExists(atPath: "\(dir)/r2"), "\(bad.stderr)")
    #expect(bad.stderr.split(separator: "\n").filter { $0.contains("validation-fraction") }.count == 1, "\(bad.stderr)")
    let smoothing = try GrapeCommand.run(["classify", "train", "--data", store, "--run", "\(dir)/r3", "--label-smoothing", "1", "--steps", "1"])
    #expect(smoothing.status != 0 && smoothing.stderr.contains("--label-smoothing") && !FileManager.default.fileExists(atPath: "\(dir)/r3"))
    let mixed = try GrapeCommand.run([
      "classify", "train", "--data", store, "--run", "\(dir)/r4", "--method", "dsu", "--sampler", "class_balanced", "--steps", "1", "--batch-size", "8",
    ])
    #expect(mixed.status == 0, "\(mixed.stderr)")
    let abraMixed = try GrapeCommand.run(["classify", "train", "--data", store, "--run", "\(dir)/r5", "--sampler", "class_balanced", "--steps", "1"])
    #expect(abraMixed.status != 0 && abraMixed.stderr.contains("class_balanced") && !FileManager.default.fileExists(atPath: "\(dir)/r5"))
    let both = try GrapeCommand.run(["classify", "baseline", "--data", store, "--run", "\(dir)/run", "--validation-fraction", "0.3", "--out", "\(dir)/lr2"])
    #expect(both.status != 0 && both.stderr.contains("--run") && !FileManager.default.fileExists(atPath: "\(dir)/lr2"), "\(both.stderr)")
  }
}
