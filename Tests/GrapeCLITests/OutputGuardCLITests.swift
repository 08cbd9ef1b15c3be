import Foundation
import GrapeSupport
import Testing
import TestSupport

/// An output path that is one of the command's inputs is refused before any work, with one line
/// naming both flags, and the input is left byte for byte as it was; an existing file of another
/// kind is replaced only with `--force`.
@Suite(.serialized) struct OutputGuardCLITests {
  static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

  /// Runs `arguments`, expects a refusal naming `flag`, and `protected` unchanged.
  static func expectRefused(_ arguments: [String], flag: String, protecting protected: String, _ comment: Comment) throws {
    let before = bytes(protected)
    let r = try GrapeCommand.run(arguments)
    #expect(r.status == 1, comment)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1 && r.stderr.contains(flag), "\(comment): \(r.stderr)")
    #expect(before != nil && bytes(protected) == before, "\(comment): the input changed")
  }

  @Test func outputsThatAreInputsAreRefused() throws {
    let dir = makeTemporaryFolder("cli-output-guard")
    let store = "\(dir)/s.h5"
    let sim = try GrapeCommand.run([
      "simulate", "--out", store, "--size", "16", "--cells-per-gene", "3", "--batches", "2", "--quiet", "--seed", "5",
      "--tiff-dir", "\(dir)/tiff",
    ])
    #expect(sim.status == 0, "\(sim.stderr)")
    let train = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/run", "--preset", "tiny", "--steps", "1"])
    #expect(train.status == 0, "\(train.stderr)")
    let run = "\(dir)/run"

    try Self.expectRefused(["encode", "--run", run, "--data", store, "--out", store], flag: "--data", protecting: store, "encode")
    try Self.expectRefused(
      ["transfer", "--run", run, "--data", store, "--gene", "nontargeting", "--out", store], flag: "--data", protecting: store, "transfer")
    try Self.expectRefused(["features", "--data", store, "--out", store], flag: "--data", protecting: store, "features")
    try Self.expectRefused(
      ["export", "--run", run, "--source", "style-mean", "--data", store, "--out", store], flag: "--data", protecting: store, "export")
    // The same file by another name: a symbolic link to the store.
    try FileManager.default.createSymbolicLink(atPath: "\(dir)/link.h5", withDestinationPath: store)
    try Self.expectRefused(["encode", "--run", run, "--data", store, "--out", "\(dir)/link.h5"], flag: "--data", protecting: store, "link")

    // import: the table, and a source image (a TIFF, not the HDF5 store import writes).
    let table = "\(dir)/tiff/cells.csv"
    try Self.expectRefused(["import", "--table", table, "--images", "\(dir)/tiff", "--out", table], flag: "--table", protecting: table, "import table")
    let image = try #require(
      FileManager.default.subpathsOfDirectory(atPath: "\(dir)/tiff").filter { $0.hasSuffix(".tif") }.sorted().first)
    let imagePath = "\(dir)/tiff/\(image)"
    try Self.expectRefused(
      ["import", "--table", table, "--images", "\(dir)/tiff", "--out", imagePath], flag: "--out", protecting: imagePath, "import image")

    // classify evaluate --features-out.
    let ct = try GrapeCommand.run([
      "classify", "train", "--data", store, "--run", "\(dir)/crun", "--holdout-batches", "B2", "--steps", "1", "--batch-size", "8",
    ])
    #expect(ct.status == 0, "\(ct.stderr)")
    try Self.expectRefused(
      ["classify", "evaluate", "--run", "\(dir)/crun", "--data", store, "--out", "\(dir)/ev", "--features-out", store],
      flag: "--features-out", protecting: store, "classify evaluate")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/ev"), "classify evaluate wrote its folder before refusing")

    // A text file where an HDF5 embedding would go is kept unless --force.
    let notes = "\(dir)/notes.h5"
    try "my notes\n".write(toFile: notes, atomically: true, encoding: .utf8)
    try Self.expectRefused(["export", "--run", run, "--out", notes], flag: "--force", protecting: notes, "other kind")
    let forced = try GrapeCommand.run(["export", "--run", run, "--out", notes, "--force"])
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(FileKind.sniff(notes) == .hdf5)
    // Replacing an earlier output of the same kind needs no flag.
    let again = try GrapeCommand.run(["export", "--run", run, "--out", notes])
    #expect(again.status == 0, "\(again.stderr)")
  }

  /// A temporary file left by a killed writer is removed by the next write of the same output;
  /// one of a live process is kept.
  @Test func staleTemporaryFilesAreRemoved() throws {
    let dir = makeTemporaryFolder("stale-temporaries")
    let out = "\(dir)/emb.h5"
    // Process ids above /proc/sys/kernel/pid_max (at most 2²²) are never running.
    let dead = "\(dir)/.emb.h5.tmp-99999999-1234"
    let live = "\(dir)/.emb.h5.tmp-1-99"  // process 1 always runs
    let other = "\(dir)/.other.h5.tmp-99999999-1"
    for f in [dead, live, other] { #expect(FileManager.default.createFile(atPath: f, contents: Data([1, 2, 3]))) }
    try AtomicFile.write("x", to: out)
    #expect(!FileManager.default.fileExists(atPath: dead))
    #expect(FileManager.default.fileExists(atPath: live) && FileManager.default.fileExists(atPath: other))
  }

  /// A file where an output folder should be is named in words, by every command that makes one.
  @Test func aFileInThePlaceOfAFolderIsNamed() throws {
    let dir = makeTemporaryFolder("folder-errors")
    let file = "\(dir)/afile"
    #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
    #expect(throws: FolderError(path: file, reason: "is a file, not a folder")) { try Folder.create(file) }
    #expect(throws: FolderError(path: "\(file)/a/b", reason: "cannot create the folder: \(file) is a file")) { try Folder.create("\(file)/a/b") }
    try Folder.create("\(dir)/new/deeper")
    try Folder.create("\(dir)/new/deeper")
    let store = try TrainExportCLITests.makeStore(dir)
    for (arguments, expected) in [
      (["train", "--data", store, "--run", file, "--preset", "tiny", "--steps", "1"], "error: \(file): is a file, not a folder"),
      (["train", "--data", store, "--run", "\(file)/run", "--preset", "tiny", "--steps", "1"], "error: \(file)/run: cannot create the folder: \(file) is a file"),
      (["classify", "train", "--data", store, "--run", file, "--steps", "1"], "error: \(file): is a file, not a folder"),
    ] {
      let r = try GrapeCommand.run(arguments)
      #expect(r.status == 1 && r.stderr == expected + "\n", "\(arguments): \(r.stderr)")
    }
  }

  @Test func fileKindsAreToldByTheirBytes() throws {
    let dir = makeTemporaryFolder("output-kind")
    try Data([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A, 0]).write(to: URL(fileURLWithPath: "\(dir)/a"))
    try Data([0x49, 0x49, 0x2A, 0x00, 8, 0]).write(to: URL(fileURLWithPath: "\(dir)/b"))
    try Data("gene\tx\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/c"))
    try Data([1, 0, 2]).write(to: URL(fileURLWithPath: "\(dir)/d"))
    #expect(FileKind.sniff("\(dir)/a") == .hdf5 && FileKind.sniff("\(dir)/b") == .tiff)
    #expect(FileKind.sniff("\(dir)/c") == .text && FileKind.sniff("\(dir)/d") == nil && FileKind.sniff("\(dir)/missing") == nil)
    #expect(FileKind(extensionOf: "x.H5AD") == .hdf5 && FileKind(extensionOf: "x.tsv") == .text && FileKind(extensionOf: "x.bin") == nil)
    // A hard link is the same file; a copy is not.
    try FileManager.default.linkItem(atPath: "\(dir)/c", toPath: "\(dir)/c2")
    try FileManager.default.copyItem(atPath: "\(dir)/c", toPath: "\(dir)/c3")
    #expect(OutputGuard.sameFile("\(dir)/c", "\(dir)/c2") && !OutputGuard.sameFile("\(dir)/c", "\(dir)/c3"))
    #expect(throws: OutputRefused.self) { try OutputGuard.check(output: dir, flag: "--out", inputs: []) }
  }
}
