import Foundation
import OPSData
import Testing
import TestSupport

/// End-to-end runs of `grape train`, `export`, `encode` and `transfer` on a tiny store.
@Suite(.serialized) struct TrainExportCLITests {
  /// A `size`×`size` uint16 store: 3 genes × `cells`/3 cells over 2 batches, gene visible in one
  /// channel (16 px and 24 cells by default).
  static func makeStore(_ dir: String, size: Int = 16, cells: Int = 24) throws -> String {
    let path = "\(dir)/cells.h5"
    let genes = ["GENE_A", "GENE_B", "nontargeting"]
    let w = try CellStoreWriter(
      path: path, channels: ["DNA", "DNA damage", "microtubules", "F-actin"], height: size, width: size, pixelType: .uint16,
      genes: genes, batches: ["plate1", "plate2"], control: "nontargeting")
    var px: [UInt16] = []
    var g: [Int32] = [], b: [Int32] = []
    for i in 0..<cells {
      g.append(Int32(i % 3))
      b.append(Int32(i % 2))
      for c in 0..<4 { for j in 0..<(size * size) { px.append(UInt16(200 + (c == i % 3 ? 800 : 0) + (j * 7 + i * 13) % 97)) } }
    }
    try w.append(images: px, genes: g, batches: b)
    try w.finish()
    return path
  }

  /// Ctrl-C writes a checkpoint after the current step and exits 130; the run resumes from it.
  @Test func interruptCheckpointsAndExits130() throws {
    let dir = makeTemporaryFolder("cli-interrupt")
    let store = try Self.makeStore(dir)
    let run = "\(dir)/run"
    let p = Process()
    p.executableURL = GrapeCommand.executable
    p.arguments = ["train", "--data", store, "--run", run, "--preset", "tiny", "--steps", "100000"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    // Wait for the first logged steps (log_every 10), then interrupt.
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline, ((try? String(contentsOfFile: "\(run)/log.tsv", encoding: .utf8))?.split(separator: "\n").count ?? 0) < 2 {
      Thread.sleep(forTimeInterval: 0.1)
    }
    kill(p.processIdentifier, SIGINT)
    p.waitUntilExit()
    #expect(p.terminationReason == .exit && p.terminationStatus == 130)
    let latest = try String(contentsOfFile: "\(run)/checkpoints/latest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(latest.hasPrefix("step-") && latest != "step-00000000", "\(latest)")
    let r = try GrapeCommand.run(["train", "--data", store, "--run", run, "--resume", "--steps", "\((Int(latest.dropFirst(5)) ?? 0) + 1)"])
    #expect(r.status == 0, "\(r.stderr)")
  }

  /// Weights holding NaN (a run that diverged, a file damaged outside the toolkit) are not
  /// exported as an embedding: the run and checkpoint are named and nothing is written.
  @Test(.enabled(if: Python.available(["safetensors.numpy", "numpy"]), "needs python3 with safetensors and numpy (make test installs them)"))
  func nonFiniteWeightsAreNotExported() throws {
    let dir = makeTemporaryFolder("cli-nan-export")
    let store = try Self.makeStore(dir)
    let run = "\(dir)/run"
    let t = try GrapeCommand.run(["train", "--data", store, "--run", run, "--preset", "tiny", "--steps", "2"])
    #expect(t.status == 0, "\(t.stderr)")
    let weights = "\(run)/checkpoints/step-00000002/weights_ema.safetensors"
    _ = try Python.run(
      "import sys, numpy as np\nfrom safetensors.numpy import load_file, save_file\nw = load_file(sys.argv[1])\n"
        + "w['gene_embedding.weight'][1, 3] = np.nan\nsave_file(w, sys.argv[1])", arguments: [weights])
    let e = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/emb.h5"])
    #expect(e.status == 1 && e.stderr.contains("\(run): the gene embedding of checkpoint latest holds NaN"), "\(e.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/emb.h5"))
  }

  /// A `genes` key in --config that is not the store's gene list is an error, not overwritten.
  @Test func configGenesMustBeTheStores() throws {
    let dir = makeTemporaryFolder("cli-config-genes")
    let store = try Self.makeStore(dir)
    try #"{"genes": ["GENE_B", "GENE_A", "nontargeting"]}"#.write(toFile: "\(dir)/genes.json", atomically: true, encoding: .utf8)
    let r = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/run", "--preset", "tiny", "--steps", "1", "--config", "\(dir)/genes.json"])
    #expect(r.status == 1 && r.stderr.contains("'genes' lists 3 genes that are not the 3 genes of --data"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/run"))
    try #"{"genes": ["GENE_A", "GENE_B", "nontargeting"]}"#.write(toFile: "\(dir)/same.json", atomically: true, encoding: .utf8)
    let same = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/run2", "--preset", "tiny", "--steps", "1", "--config", "\(dir)/same.json"])
    #expect(same.status == 0, "\(same.stderr)")
  }

  /// A fresh run that fails before its first checkpoint (here on a NaN pixel, named by cell)
  /// leaves no run folder behind.
  @Test(.enabled(if: Python.available(["h5py", "numpy"]), "needs python3 with h5py and numpy (make test installs them)"))
  func aFailedFreshRunLeavesNoFolder() throws {
    let dir = makeTemporaryFolder("cli-failed-run")
    let store = try Self.makeStore(dir)
    _ = try Python.run(
      "import sys, h5py, numpy as np\nwith h5py.File(sys.argv[1], 'r+') as f:\n    x = f['images'][:].astype(np.float32)\n"
        + "    x[:, 1, 2, 3] = np.nan\n    del f['images']\n    f.create_dataset('images', data=x, chunks=(1,) + x.shape[1:])",
      arguments: [store])
    let r = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/run", "--preset", "tiny", "--steps", "3"])
    #expect(r.status == 1 && r.stderr.contains("has a non-finite pixel (nan) in channel 'DNA damage'"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/run"))
  }

  @Test func trainExportEncodeTransfer() throws {
    let dir = makeTemporaryFolder("cli-train")
    let store = try Self.makeStore(dir)
    let run = "\(dir)/run"
    let t = try GrapeCommand.run(["train", "--data", store, "--run", run, "--preset", "tiny", "--steps", "3", "--seed", "4"])
    #expect(t.status == 0, "train failed: \(t.stderr)")
    #expect(t.stdout.contains("trained to step 3"))
    for f in ["config.json", "log.tsv", "loss_curves.svg", "checkpoints/latest", "checkpoints/step-00000003/weights_ema.safetensors"] {
      #expect(FileManager.default.fileExists(atPath: "\(run)/\(f)"), "missing \(f)")
    }
    // Every loss panel names its axes: the step below, the loss along the left side.
    let curves = try String(contentsOfFile: "\(run)/loss_curves.svg", encoding: .utf8)
    #expect(curves.contains("text-anchor=\"middle\">step</text>") && curves.contains("rotate(-90)\" text-anchor=\"middle\">d_real</text>"))
    let config = try String(contentsOfFile: "\(run)/config.json", encoding: .utf8)
    // A uint16 store gets GRAPE's preprocessing: percentile mapping, then per-batch control z-scores.
    #expect(config.contains("\"input_transform\"") && config.contains("\"controls\"") && config.contains("\"batches\""))

    // A fresh run into the trained folder is refused and leaves its config as it was.
    let again = try GrapeCommand.run(["train", "--data", store, "--run", run, "--preset", "tiny", "--steps", "1"])
    #expect(again.status != 0 && again.stderr.contains("already holds a trained run") && again.stderr.contains("--resume"), "\(again.stderr)")
    #expect(try String(contentsOfFile: "\(run)/config.json", encoding: .utf8) == config)

    // Resume to a later step.
    let r = try GrapeCommand.run(["train", "--data", store, "--run", run, "--resume", "--steps", "4"])
    #expect(r.status == 0, "resume failed: \(r.stderr)")
    #expect(FileManager.default.fileExists(atPath: "\(run)/checkpoints/step-00000004"))

    for ext in ["h5", "tsv", "h5ad"] {
      let e = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/emb.\(ext)"])
      #expect(e.status == 0, "export .\(ext) failed: \(e.stderr)")
      let emb = try GeneEmbedding.read(from: "\(dir)/emb.\(ext)")
      #expect(emb.genes == ["GENE_A", "GENE_B", "nontargeting"] && emb.dimension == 32)
    }
    let sm = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/sm.tsv", "--source", "style-mean", "--data", store])
    #expect(sm.status == 0, "\(sm.stderr)")
    #expect(try GeneEmbedding.read(from: "\(dir)/sm.tsv").dimension == 16)
    // An earlier checkpoint by its step; a missing one is named with the steps that exist.
    let early = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/early.h5", "--checkpoint", "3"])
    #expect(early.status == 0, "\(early.stderr)")
    let missing = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/missing.h5", "--checkpoint", "99"])
    #expect(missing.status != 0 && missing.stderr.contains("step 99") && missing.stderr.contains("3, 4"), "\(missing.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/missing.h5"))
    // Style means of codes standardised per batch by the controls: the control row is then ~0.
    let smc = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/smc.h5", "--source", "style-mean", "--data", store, "--normalize", "controls"])
    #expect(smc.status == 0, "\(smc.stderr)")
    let normalized = try GeneEmbedding.read(from: "\(dir)/smc.h5")
    let control = try #require(normalized.genes.firstIndex(of: "nontargeting"))
    #expect(normalized.row(control).allSatisfy { abs($0) < 1e-3 })
    #expect(normalized.source == "style-mean")
    #expect(try HDF5File.open("\(dir)/smc.h5").root.attributes.string("normalization") == "controls")
    let badNorm = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/bad.h5", "--source", "style-mean", "--data", store, "--normalize", "plates"])
    #expect(badNorm.status != 0 && badNorm.stderr.contains("--normalize"), "\(badNorm.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/bad.h5"))
    let normM = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/bad.h5", "--normalize", "controls"])
    #expect(normM.status != 0 && normM.stderr.contains("style-mean"), "\(normM.stderr)")

    let enc = try GrapeCommand.run(["encode", "--run", run, "--data", store, "--out", "\(dir)/codes.h5"])
    #expect(enc.status == 0, "\(enc.stderr)")
    let codes = try CellCodes.read(from: "\(dir)/codes.h5")
    #expect(codes.count == 24 && codes.dimension == 16 && codes.batches == ["plate1", "plate2"])
    // --harmony: the same gene rows as encode, then profile --normalize standardize --harmony.
    let hx = try GrapeCommand.run([
      "export", "--run", run, "--out", "\(dir)/smh.h5", "--source", "style-mean", "--data", store, "--normalize", "controls", "--harmony",
      "--seed", "3",
    ])
    #expect(hx.status == 0, "\(hx.stderr)")
    let hp = try GrapeCommand.run(["profile", "--cells", "\(dir)/codes.h5", "--out", "\(dir)/smh_profile.h5", "--normalize", "standardize", "--harmony", "--seed", "3"])
    #expect(hp.status == 0, "\(hp.stderr)")
    let (viaExport, viaProfile) = (try GeneEmbedding.read(from: "\(dir)/smh.h5"), try GeneEmbedding.read(from: "\(dir)/smh_profile.h5"))
    #expect(viaExport.genes == viaProfile.genes && viaExport.dimension == viaProfile.dimension)
    #expect(zip(viaExport.values, viaProfile.values).allSatisfy { abs($0 - $1) <= 1e-5 })
    #expect(viaExport.source == "style-mean+harmony")
    let harmonyM = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/bad.h5", "--harmony"])
    #expect(harmonyM.status != 0 && harmonyM.stderr.contains("--harmony"), "\(harmonyM.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/bad.h5"))

    let tr = try GrapeCommand.run(["transfer", "--run", run, "--data", store, "--gene", "GENE_B", "--out", "\(dir)/moved.h5", "--limit", "5"])
    #expect(tr.status == 0, "\(tr.stderr)")
    let f = try HDF5File.open("\(dir)/moved.h5")
    #expect(try f.dataset("images").shape == [5, 4, 16, 16])
    let png = try GrapeCommand.run(["transfer", "--run", run, "--data", store, "--gene", "GENE_A", "--out", "\(dir)/moved.png", "--limit", "4"])
    #expect(png.status == 0, "\(png.stderr)")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/moved.png"))
    #expect(bytes.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
  }

  @Test func badInputGetsOneClearLineAndNoOutput() throws {
    let dir = makeTemporaryFolder("cli-bad")
    let store = try Self.makeStore(dir)
    // A preset whose crop size does not match the store.
    let a = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/r1", "--preset", "cpu", "--steps", "1"])
    #expect(a.status != 0)
    #expect(a.stderr.contains("16×16") && a.stderr.contains("cpu"), "\(a.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/r1/checkpoints"))
    // A missing data file names the flag and the path.
    let b = try GrapeCommand.run(["train", "--data", "\(dir)/nope.h5", "--run", "\(dir)/r2", "--preset", "tiny"])
    #expect(b.status != 0 && b.stderr.contains("nope.h5"))
    // Resume without a checkpoint.
    let c = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/r3", "--resume"])
    #expect(c.status != 0 && c.stderr.contains("config.json"), "\(c.stderr)")
    // --resume keeps the run's configuration: a preset or config file given with it is refused.
    let c2 = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/r3", "--resume", "--preset", "tiny", "--abra"])
    #expect(c2.status != 0 && c2.stderr.contains("--preset and --abra"), "\(c2.stderr)")
    // A folder given as --config is named as such.
    let c3 = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/r3", "--preset", "tiny", "--config", dir])
    #expect(c3.status != 0 && c3.stderr.contains("is a folder"), "\(c3.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/r3"))
    // Export from a folder that is not a run.
    let d = try GrapeCommand.run(["export", "--run", dir, "--out", "\(dir)/x.h5"])
    #expect(d.status != 0 && d.stderr.contains("config.json"))
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/x.h5"))
    // An output extension export does not write.
    let e = try GrapeCommand.run(["export", "--run", dir, "--out", "\(dir)/x.xlsx"])
    #expect(e.status != 0 && e.stderr.contains(".xlsx") && e.stderr.contains(".csv or .h5ad"), "\(e.stderr)")
    // A config override with an unknown field.
    try #"{"learning_rate": 1}"#.write(toFile: "\(dir)/bad.json", atomically: true, encoding: .utf8)
    let f = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/r4", "--preset", "tiny", "--config", "\(dir)/bad.json"])
    #expect(f.status != 0 && f.stderr.contains("learning_rate"), "\(f.stderr)")
    #expect(f.stderr.split(separator: "\n").count == 1, "more than one error line: \(f.stderr)")
  }
}
