import Foundation
import OPSData
import TestSupport
import Testing

/// Runs the built `grape` executable (found next to the test bundle) and captures its output.
private struct GrapeRun {
  let status: Int32
  let stdout: String
  let stderr: String

  static var executable: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("grape")
  }

  init(_ arguments: [String], in directory: URL) throws {
    let process = Process()
    process.executableURL = Self.executable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    status = process.terminationStatus
    stdout = String(decoding: outData, as: UTF8.self)
    stderr = String(decoding: errData, as: UTF8.self)
  }
}

/// The import fixtures of the OPSData tests.
private func fixture(_ name: String) -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("OPSDataTests/Fixtures/import").appendingPathComponent(name).path
}

@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: GrapeRun.executable.path), "needs the grape executable: swift build --build-tests builds it"))
struct ImportCLITests {
  @Test func importThenInspectTiles() throws {
    let dir = try TemporaryDirectory(prefix: "grape-cli")
    defer { dir.remove() }
    try FileManager.default.copyItem(atPath: fixture("tiles"), toPath: dir.path("tiles"))
    let run = try GrapeRun(
      [
        "import", "--table", "tiles/tiles.csv", "--images", "tiles", "--out", "cells.h5", "--crop",
        "16",
        "--gene-column", "gene_symbol_0", "--batch-columns", "plate,well", "--channel-names",
        "DNA,tubulin,actin",
        "--channels", "actin,DNA", "--normalize", "controls",
      ], in: dir.url)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(
      run.stdout.hasPrefix(
        "wrote cells.h5: 9 cells, 3 genes, 2 batches, 2×16×16 float32, 4 skipped at the border"))
    #expect(run.stderr.contains("import: pass 2/2 writing: 9 cells in"))
    let store = try CellStore(path: dir.path("cells.h5"))
    #expect(store.channels == ["actin", "DNA"] && store.batches == ["P1_A1", "P2_B1"])

    let inspect = try GrapeRun(["inspect", "cells.h5"], in: dir.url)
    #expect(inspect.status == 0, "\(inspect.stderr)")
    #expect(inspect.stdout.contains("cells       9"))
    #expect(inspect.stdout.contains("images      [9, 2, 16, 16] float32 (shuffle+deflate)"))
    #expect(inspect.stdout.contains("G1 3, G2 2, nontargeting 4"))
    #expect(inspect.stdout.contains("P1_A1 4, P2_B1 5"))
    #expect(inspect.stdout.contains("\"normalize\":\"controls\""))

    let timed = try GrapeRun(
      ["inspect", "cells.h5", "--time-reads", "2,4", "--time-batches", "3"], in: dir.url)
    #expect(timed.status == 0)
    #expect(timed.stdout.contains("random reads, batch 4:"))
  }

  /// A row repeated in the table (the same image and centroid) is imported, with one warning.
  @Test func repeatedRowsAreWarnedAbout() throws {
    let dir = try TemporaryDirectory(prefix: "grape-cli")
    defer { dir.remove() }
    try FileManager.default.copyItem(atPath: fixture("tiles"), toPath: dir.path("tiles"))
    let table = dir.path("tiles/tiles.csv")
    var lines = try String(contentsOfFile: table, encoding: .utf8).split(separator: "\n").map(String.init)
    lines.append(lines[1])
    try (lines.joined(separator: "\n") + "\n").write(toFile: table, atomically: true, encoding: .utf8)
    let run = try GrapeRun(
      ["import", "--table", "tiles/tiles.csv", "--images", "tiles", "--out", "cells.h5", "--crop", "16", "--gene-column", "gene_symbol_0", "--quiet"],
      in: dir.url)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(
      run.stderr == "warning: tiles/tiles.csv: 1 row names a cell that an earlier row names (row \(lines.count) repeats row 2); each was imported as a separate cell\n",
      "\(run.stderr)")
  }

  @Test func badInputGivesOneErrorLineAndNoOutput() throws {
    let dir = try TemporaryDirectory(prefix: "grape-cli")
    defer { dir.remove() }
    try FileManager.default.copyItem(atPath: fixture("crops"), toPath: dir.path("crops"))
    try FileManager.default.removeItem(atPath: dir.path("crops/img/cell_05.tif"))
    let run = try GrapeRun(
      [
        "import", "--table", "crops/crops.csv", "--images", "crops", "--out", "cells.h5", "--quiet",
      ], in: dir.url)
    #expect(run.status != 0)
    #expect(run.stdout.isEmpty)
    #expect(run.stderr == "error: crops/crops.csv row 7: image 'img/cell_05.tif' not found\n")
    #expect(!FileManager.default.fileExists(atPath: dir.path("cells.h5")))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["crops"])

    let badFlag = try GrapeRun(
      [
        "import", "--table", "crops/crops.csv", "--images", "crops", "--out", "c.h5", "--normalize",
        "zscore",
      ], in: dir.url)
    #expect(badFlag.status != 0)
    #expect(
      badFlag.stderr.contains(
        "--normalize: 'zscore' is not one of none, percentile, controls, percentile+controls"))

    let plain = dir.path("plain.h5")
    let file = try HDF5File.create(plain)
    try file.root.write("values", [1, 2, 3] as [Float])
    try file.commit()
    let notAStore = try GrapeRun(["inspect", "plain.h5"], in: dir.url)
    #expect(notAStore.status != 0)
    #expect(
      notAStore.stderr
        == "error: plain.h5: not a cell store, embedding, per-cell code file or run folder (root holds: values)\n"
    )
  }

  @Test func inspectEmbeddingsAndRuns() throws {
    let dir = try TemporaryDirectory(prefix: "grape-cli")
    defer { dir.remove() }
    try GeneEmbedding(genes: ["A", "B"], values: [3, 4, 0, 1], dimension: 2, source: "style-mean")
      .write(to: dir.path("e.h5ad"))
    let embedding = try GrapeRun(["inspect", "e.h5ad"], in: dir.url)
    #expect(embedding.status == 0)
    #expect(embedding.stdout.contains("genes       2"))
    #expect(embedding.stdout.contains("dimension   2"))
    #expect(embedding.stdout.contains("source      style-mean"))
    #expect(embedding.stdout.contains("row norms   min 1.0000, median 5.0000, max 5.0000"))

    let run = dir.path("run")
    try FileManager.default.createDirectory(
      atPath: run + "/checkpoints/step-00000200", withIntermediateDirectories: true)
    try
      #"{"img_size": 32, "in_channels": 4, "style_dim": 64, "latent_dim": 500, "genes": ["a", "b"], "abra": true, "lr": 0.0001}"#
      .write(toFile: run + "/config.json", atomically: true, encoding: .utf8)
    try "step-00000200\n".write(
      toFile: run + "/checkpoints/latest", atomically: true, encoding: .utf8)
    try #"{"step": 200}"#.write(
      toFile: run + "/checkpoints/step-00000200/state.json", atomically: true, encoding: .utf8)
    try Data().write(
      to: URL(fileURLWithPath: run + "/checkpoints/step-00000200/weights.safetensors"))
    let inspect = try GrapeRun(["inspect", "run"], in: dir.url)
    #expect(inspect.status == 0, "\(inspect.stderr)")
    #expect(inspect.stdout.contains("img_size       32"))
    #expect(inspect.stdout.contains("genes          a, b"))
    #expect(inspect.stdout.contains("abra           true"))
    #expect(
      inspect.stdout.contains("latest         step-00000200 (weights.safetensors, state.json)"))
    #expect(inspect.stdout.contains("step           200"))
    #expect(inspect.stdout.contains("other keys     lr"))
    let missing = try GrapeRun(["inspect", "nothing.h5"], in: dir.url)
    #expect(missing.status != 0 && missing.stderr == "error: nothing.h5: file not found\n")
  }
}
