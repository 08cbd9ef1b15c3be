import Foundation
import OPSData
import Testing
import TestSupport

/// `grape train --validation-every`: the CORUM mAP of the EMA gene embedding in `log.tsv` and the
/// progress lines, end to end on a tiny simulated screen.
@Suite(.serialized) struct ValidationCLITests {
  static func screen(_ dir: String) throws -> String {
    let r = try GrapeCommand.run([
      "simulate", "--out", "\(dir)/s.h5", "--size", "16", "--cells-per-gene", "3", "--batches", "2", "--quiet", "--seed", "5",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    return "\(dir)/s.h5"
  }

  static func log(_ run: String) throws -> [[String]] {
    try String(contentsOfFile: "\(run)/log.tsv", encoding: .utf8).split(separator: "\n").map {
      $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    }
  }

  /// A simulated store validates against its own truth; the logged value is `grape evaluate`'s
  /// mAP of the exported embedding; validation changes no weight; a resume keeps validating.
  @Test func trainLogsTheValidationMAPOfTheExportedEmbedding() throws {
    let dir = makeTemporaryFolder("cli-valmap")
    let store = try Self.screen(dir)
    try #"{"log_every": 1}"#.write(toFile: "\(dir)/c.json", atomically: true, encoding: .utf8)
    let common = ["train", "--data", store, "--preset", "tiny", "--config", "\(dir)/c.json", "--seed", "3"]
    let t = try GrapeCommand.run(common + ["--run", "\(dir)/run", "--steps", "3", "--validation-every", "2"])
    #expect(t.status == 0, "\(t.stderr)")
    #expect(t.stderr.contains("validating every 2 steps"), "\(t.stderr)")
    #expect(t.stdout.contains("val_map"), "\(t.stdout)")
    #expect(t.stderr.contains("2 validations took"), "\(t.stderr)")
    var log = try Self.log("\(dir)/run")
    #expect(log[0].last == "val_map" && log.count == 4)
    #expect(log[1].last == "nan" && log[2].last != "nan" && log[3].last != "nan")
    let logged = try #require(Double(log[3].last ?? ""))
    #expect(logged > 0 && logged < 1)
    // The same value as grape evaluate of the exported rows of M (the simulated genes are CORUM's).
    let e = try GrapeCommand.run(["export", "--run", "\(dir)/run", "--out", "\(dir)/m.h5"])
    #expect(e.status == 0, "\(e.stderr)")
    let ev = try GrapeCommand.run([
      "evaluate", "--embedding", "\(dir)/m.h5", "--out", "\(dir)/ev", "--restarts", "1", "--k-range", "none", "--no-figures", "--null-size", "0",
    ])
    #expect(ev.status == 0, "\(ev.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/ev/metrics.json"))) as? [String: Any])
    let map = try #require(json["map"] as? Double)
    #expect(abs(map - logged) < 1e-5, "evaluate \(map), log \(logged)")
    // The curve of val_map is drawn from its measured rows.
    #expect(try String(contentsOfFile: "\(dir)/run/loss_curves.svg", encoding: .utf8).contains(">val_map</text>"))
    // Without validation: the same weights, and no val_map column.
    let off = try GrapeCommand.run(common + ["--run", "\(dir)/off", "--steps", "3", "--validation-every", "0"])
    #expect(off.status == 0, "\(off.stderr)")
    #expect(try Self.log("\(dir)/off")[0].last != "val_map")
    for file in ["weights.safetensors", "weights_ema.safetensors", "optimizer.safetensors"] {
      let a = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/run/checkpoints/step-00000003/\(file)"))
      let b = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/off/checkpoints/step-00000003/\(file)"))
      #expect(a == b, "\(file) differs")
    }
    // A resume keeps the run's validation_every and its rows.
    let r = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/run", "--resume", "--steps", "4"])
    #expect(r.status == 0, "\(r.stderr)")
    log = try Self.log("\(dir)/run")
    #expect(log.count == 5 && log[3].last == String(format: "%.6g", logged) && log[4].last != "nan")
  }

  /// A store without truth is trained without validation (one note); `--complexes` gives it one.
  @Test func complexesComeFromTheFlagOrValidationIsSkipped() throws {
    let dir = makeTemporaryFolder("cli-valmap-skip")
    let store = try TrainExportCLITests.makeStore(dir)
    let t = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/run", "--preset", "tiny", "--steps", "2", "--validation-every", "1"])
    #expect(t.status == 0, "\(t.stderr)")
    #expect(t.stderr.components(separatedBy: "validation skipped: no complexes").count == 2, "\(t.stderr)")
    #expect(try Self.log("\(dir)/run")[0].last != "val_map")
    // GENE_A and GENE_B form one complex: each is the other's only candidate, so mAP is 1.
    try "complex_id\tcomplex_name\tgene\n1\tAB\tGENE_A\n1\tAB\tGENE_B\n".write(toFile: "\(dir)/ab.tsv", atomically: true, encoding: .utf8)
    let v = try GrapeCommand.run([
      "train", "--data", store, "--run", "\(dir)/run2", "--preset", "tiny", "--steps", "2", "--validation-every", "1", "--complexes", "\(dir)/ab.tsv",
    ])
    #expect(v.status == 0, "\(v.stderr)")
    let log = try Self.log("\(dir)/run2")
    #expect(log[0].last == "val_map" && log.dropFirst().map { $0.last } == ["1", "1"])
    // Complexes that share no gene with the store are an error before any training.
    try "complex_id\tcomplex_name\tgene\n1\tXY\tX\n1\tXY\tY\n".write(toFile: "\(dir)/xy.tsv", atomically: true, encoding: .utf8)
    let bad = try GrapeCommand.run([
      "train", "--data", store, "--run", "\(dir)/run3", "--preset", "tiny", "--steps", "2", "--validation-every", "1", "--complexes", "\(dir)/xy.tsv",
    ])
    #expect(bad.status == 1 && bad.stderr.contains("--complexes \(dir)/xy.tsv"), "\(bad.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/run3"))
    let negative = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/run4", "--validation-every", "-1"])
    #expect(negative.status != 0 && negative.stderr.contains("--validation-every"), "\(negative.stderr)")
  }
}
