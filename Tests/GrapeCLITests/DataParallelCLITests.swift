import Foundation
import NeuralNet
import TensorCore
import OPSData
import Testing
import TestSupport

/// `mpirun -np 2 grape train`: data-parallel training over MPI (`Training/Distributed`).
///
/// Every rank computes on its half of each mini-batch and the gradients are averaged by
/// `MPI_Allreduce`. Two ranks of 8 cells do exactly the arithmetic of one process that computes
/// the 16 cells as two micro-batches of 8 (`micro_batches` 2), so their weights are compared
/// bit for bit; that a whole batch's gradient is the mean of its halves' to float precision is
/// `DataParallelStepTests`.
@Suite(
  .serialized,
  .enabled(if: GrapeCommand.mpirun != nil, "needs Open MPI's mpirun (make test installs openmpi-bin and libopenmpi-dev)"))
struct DataParallelCLITests {
  /// A 32×32 uint16 store: 3 genes × 16 cells over 2 batches, gene visible in one channel.
  static func makeStore(_ dir: String) throws -> String { try TrainExportCLITests.makeStore(dir, size: 32, cells: 48) }

  /// The tiny networks at 32 px, batch 16, a checkpoint every `every` steps.
  static func config(_ dir: String, _ name: String, every: Int, micro: Int? = nil) throws -> String {
    let path = "\(dir)/\(name).json"
    let extra = micro.map { ", \"micro_batches\": \($0)" } ?? ""
    try #"{"img_size": 32, "batch_size": 16, "checkpoint_every": \#(every), "log_every": 1\#(extra)}"#.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  static func tensors(_ run: String, step: Int, _ file: String) throws -> [String: Tensor] {
    try SafeTensors.read("\(run)/checkpoints/step-\(String(format: "%08d", step))/\(file)").tensors
  }

  static func expectIdentical(_ a: String, _ b: String, step: Int) throws {
    for file in ["weights.safetensors", "weights_ema.safetensors", "optimizer.safetensors"] {
      let x = try tensors(a, step: step, file)
      let y = try tensors(b, step: step, file)
      #expect(Set(x.keys) == Set(y.keys), "\(file)")
      let differing = x.keys.filter { x[$0]?.scalars != y[$0]?.scalars }
      #expect(differing.isEmpty, "\(file): \(differing.sorted().prefix(5))")
    }
  }

  @Test func twoRanksDoTheArithmeticOfTwoMicroBatches() throws {
    let dir = makeTemporaryFolder("dp-equal")
    let store = try Self.makeStore(dir)
    let single = try GrapeCommand.run(
      ["train", "--data", store, "--run", "\(dir)/one", "--preset", "tiny", "--steps", "5", "--seed", "3", "--config", try Self.config(dir, "m2", every: 5, micro: 2)],
      environment: ["GRAPE_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"])
    #expect(single.status == 0, "\(single.stderr)")
    let ranks = try GrapeCommand.runRanks(
      2, ["train", "--data", store, "--run", "\(dir)/two", "--preset", "tiny", "--steps", "5", "--seed", "3", "--config", try Self.config(dir, "m1", every: 5)])
    #expect(ranks.status == 0, "\(ranks.stderr)")
    // Rank 0 alone prints.
    #expect(ranks.stdout.components(separatedBy: "trained to step 5").count == 2, "\(ranks.stdout)")
    try Self.expectIdentical("\(dir)/one", "\(dir)/two", step: 5)
    let logOne = try String(contentsOfFile: "\(dir)/one/log.tsv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").dropFirst(2) }
    let logTwo = try String(contentsOfFile: "\(dir)/two/log.tsv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").dropFirst(2) }
    #expect(logOne == logTwo, "the logged losses (means over the ranks) differ")
  }

  @Test func aResumedRunEqualsAnUninterruptedOne() throws {
    let dir = makeTemporaryFolder("dp-resume")
    let store = try Self.makeStore(dir)
    let cfg = try Self.config(dir, "c", every: 1)
    let whole = try GrapeCommand.runRanks(2, ["train", "--data", store, "--run", "\(dir)/whole", "--preset", "tiny", "--steps", "4", "--seed", "4", "--config", cfg])
    #expect(whole.status == 0, "\(whole.stderr)")
    let first = try GrapeCommand.runRanks(2, ["train", "--data", store, "--run", "\(dir)/parts", "--preset", "tiny", "--steps", "2", "--seed", "4", "--config", cfg])
    #expect(first.status == 0, "\(first.stderr)")
    let rest = try GrapeCommand.runRanks(2, ["train", "--data", store, "--run", "\(dir)/parts", "--resume", "--steps", "4"])
    #expect(rest.status == 0, "\(rest.stderr)")
    try Self.expectIdentical("\(dir)/whole", "\(dir)/parts", step: 4)
    // The sampler's state is the global one: the same run continues in one process.
    let alone = try GrapeCommand.run(["train", "--data", store, "--run", "\(dir)/parts", "--resume", "--steps", "5"])
    #expect(alone.status == 0, "\(alone.stderr)")
    #expect(FileManager.default.fileExists(atPath: "\(dir)/parts/checkpoints/step-00000005/weights.safetensors"))
    // `grape encode` shares the cells out over the ranks and rank 0 writes all codes.
    let one = try GrapeCommand.run(["encode", "--run", "\(dir)/whole", "--data", store, "--out", "\(dir)/one.h5"])
    #expect(one.status == 0, "\(one.stderr)")
    let two = try GrapeCommand.runRanks(2, ["encode", "--run", "\(dir)/whole", "--data", store, "--out", "\(dir)/two.h5"])
    #expect(two.status == 0, "\(two.stderr)")
    let a = try CellCodes.read(from: "\(dir)/one.h5")
    let b = try CellCodes.read(from: "\(dir)/two.h5")
    #expect(a.count == 48 && b.count == 48 && a.geneOfCell == b.geneOfCell)
    #expect(zip(a.values, b.values).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) })
  }

  /// `grape features` shares each chunk's cells out over the ranks and folds the rows in store
  /// order: the same embedding, bit for bit.
  @Test func featuresOverRanksEqualOneProcess() throws {
    let dir = makeTemporaryFolder("dp-features")
    let store = try Self.makeStore(dir)
    let one = try GrapeCommand.run(["features", "--data", store, "--out", "\(dir)/one.tsv", "--normalize", "controls", "--batch-size", "20"])
    #expect(one.status == 0, "\(one.stderr)")
    let two = try GrapeCommand.runRanks(2, ["features", "--data", store, "--out", "\(dir)/two.tsv", "--normalize", "controls", "--batch-size", "20"])
    #expect(two.status == 0, "\(two.stderr)")
    let a = try String(contentsOfFile: "\(dir)/one.tsv", encoding: .utf8)
    let b = try String(contentsOfFile: "\(dir)/two.tsv", encoding: .utf8)
    #expect(!a.isEmpty && a.split(separator: "\n").dropFirst().elementsEqual(b.split(separator: "\n").dropFirst()))
  }

  /// A rank that dies makes mpirun stop the others; the newest checkpoint is still whole.
  @Test func aKilledRankStopsTheRunAndKeepsTheLastCheckpoint() throws {
    let dir = makeTemporaryFolder("dp-kill")
    let store = try Self.makeStore(dir)
    let run = "\(dir)/run"
    guard let mpirun = GrapeCommand.mpirun else { return }
    let p = Process()
    p.executableURL = mpirun
    p.arguments = GrapeCommand.mpirunArguments(2) + [
      GrapeCommand.executable.path, "train", "--data", store, "--run", run, "--preset", "tiny", "--steps", "100000", "--config",
      try Self.config(dir, "c", every: 1),
    ]
    var env = ProcessInfo.processInfo.environment
    (env["GRAPE_THREADS"], env["OPENBLAS_NUM_THREADS"]) = ("1", "1")
    p.environment = env
    let errURL = URL(fileURLWithPath: "\(dir)/stderr")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    p.standardOutput = FileHandle.nullDevice
    p.standardError = try FileHandle(forWritingTo: errURL)
    try p.run()
    let deadline = Date().addingTimeInterval(180)
    while Date() < deadline, !FileManager.default.fileExists(atPath: "\(run)/checkpoints/step-00000002") {
      Thread.sleep(forTimeInterval: 0.1)
    }
    // Rank 1 is the grape process whose environment says so; kill it without warning.
    let victim = try Self.processes(named: "grape").first { Self.environment(of: $0)["OMPI_COMM_WORLD_RANK"] == "1" }
    let pid = try #require(victim, "no rank 1 found")
    kill(pid, SIGKILL)
    p.waitUntilExit()
    #expect(p.terminationStatus != 0)
    let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    #expect(!stderr.isEmpty)
    let latest = try String(contentsOfFile: "\(run)/checkpoints/latest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    let export = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/m.tsv"])
    #expect(export.status == 0, "\(latest): \(export.stderr)")
  }

  static func processes(named name: String) throws -> [Int32] {
    try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { pid in
      ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) == name
    }
  }

  static func environment(of pid: Int32) -> [String: String] {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return [:] }
    var env: [String: String] = [:]
    for entry in data.split(separator: 0) {
      let text = String(decoding: entry, as: UTF8.self)
      if let eq = text.firstIndex(of: "=") { env[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
    }
    return env
  }
}
