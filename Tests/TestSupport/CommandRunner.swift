import Foundation

/// The result of running the `grape` executable.
public struct CommandResult {
  public let status: Int32
  public let stdout: String
  public let stderr: String
}

/// Locates and runs the `grape` executable built next to the test bundle.
public enum GrapeCommand {
  /// The executable: `$GRAPE_BIN` if set, else `grape` in the build folder of the tests.
  public static var executable: URL {
    if let env = ProcessInfo.processInfo.environment["GRAPE_BIN"] { return URL(fileURLWithPath: env) }
    let bundleDir = Bundle.main.bundleURL.deletingLastPathComponent()
    for dir in [bundleDir, bundleDir.deletingLastPathComponent(), Bundle.main.bundleURL] {
      let candidate = dir.appendingPathComponent("grape")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    // Tests run from the package root by `swift test`.
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    for config in ["debug", "release"] {
      let candidate = cwd.appendingPathComponent(".build/\(config)/grape")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return bundleDir.appendingPathComponent("grape")
  }

  /// Runs `grape` with `arguments` and waits for it.
  public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    try runProgram(executable, arguments, environment: environment)
  }

  /// `mpirun` on the search path, if Open MPI's launcher is installed.
  public static var mpirun: URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
      .first { FileManager.default.isExecutableFile(atPath: $0.path) }
  }

  /// Runs `grape` with `arguments` as `ranks` MPI ranks (`mpirun -np ranks`, one thread each) and
  /// waits for them.
  public static func runRanks(_ ranks: Int, _ arguments: [String]) throws -> CommandResult {
    guard let mpirun else { return CommandResult(status: 127, stdout: "", stderr: "mpirun not found") }
    return try runProgram(
      mpirun, mpirunArguments(ranks) + [executable.path] + arguments, environment: ["GRAPE_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"])
  }

  /// The launcher's arguments for `ranks` ranks on this machine, passing the thread settings on.
  /// Shared memory between the ranks without cross-memory attach, which containers often forbid.
  public static func mpirunArguments(_ ranks: Int) -> [String] {
    [
      "--allow-run-as-root", "--oversubscribe", "-np", String(ranks), "--mca", "btl_vader_single_copy_mechanism", "none",
      "-x", "GRAPE_THREADS", "-x", "OPENBLAS_NUM_THREADS",
    ]
  }

  /// Runs a program with `arguments` and waits for it; output is collected through files.
  public static func runProgram(_ program: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    let p = Process()
    p.executableURL = program
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    p.environment = env
    // Output goes to files, so a chatty command can never block on a full pipe.
    let dir = makeTemporaryFolder("cmd")
    let outURL = URL(fileURLWithPath: "\(dir)/stdout"), errURL = URL(fileURLWithPath: "\(dir)/stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: outURL)
    p.standardError = try FileHandle(forWritingTo: errURL)
    try p.run()
    p.waitUntilExit()
    let outData = (try? Data(contentsOf: outURL)) ?? Data()
    let errData = (try? Data(contentsOf: errURL)) ?? Data()
    try? FileManager.default.removeItem(atPath: dir)
    return CommandResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
  }
}

/// A fresh temporary folder (see ``TemporaryDirectory``), as a path.
public func makeTemporaryFolder(_ tag: String) -> String {
  (try? TemporaryDirectory(prefix: "grape-\(tag)"))?.url.path ?? FileManager.default.temporaryDirectory.path
}
