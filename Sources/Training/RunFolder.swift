import GrapeSupport
import Foundation
import TensorCore

/// A run folder (INTERFACES.md "Runs and checkpoints"):
///
/// ```
/// RUN/config.json                   model and training configuration
/// RUN/log.tsv                       step, time and every loss, one row per logged step
/// RUN/checkpoints/step-00001000/    weights.safetensors, weights_ema.safetensors,
///                                   optimizer.safetensors, state.json
/// RUN/checkpoints/latest            the name of the newest complete checkpoint folder
/// ```
///
/// A checkpoint is written into a hidden temporary folder that is renamed into place when
/// complete; `latest` is rewritten (atomically) last, so an interrupted save never hides the
/// previous checkpoint.
public struct RunFolder: Sendable {
  /// The folder.
  public let path: String

  public init(path: String) { self.path = path }

  public var configPath: String { "\(path)/config.json" }
  public var logPath: String { "\(path)/log.tsv" }
  public var checkpointsPath: String { "\(path)/checkpoints" }
  public var latestPath: String { "\(checkpointsPath)/latest" }

  /// Folder name of the checkpoint of `step`.
  public static func checkpointName(step: Int) -> String {
    let digits = String(step)
    return "step-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
  }

  /// The folder of the newest complete checkpoint, from `latest`; nil when there is none.
  public func latestCheckpoint() throws -> String? {
    guard FileManager.default.fileExists(atPath: latestPath) else { return nil }
    guard let text = try? String(contentsOfFile: latestPath, encoding: .utf8) else {
      throw TrainingError.invalidRun(path: latestPath, reason: "unreadable")
    }
    let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !name.isEmpty, !name.contains("/") else { throw TrainingError.invalidRun(path: latestPath, reason: "does not name a checkpoint folder") }
    let dir = "\(checkpointsPath)/\(name)"
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
      throw TrainingError.invalidRun(path: latestPath, reason: "names '\(name)', which is not a folder in \(checkpointsPath)")
    }
    return dir
  }

  /// The steps of the complete checkpoint folders (those holding `state.json` or EMA weights), in order.
  public func checkpointSteps() -> [Int] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointsPath)) ?? []
    return names.compactMap { name -> Int? in
      guard name.hasPrefix("step-"), let step = Int(name.dropFirst(5)), name == RunFolder.checkpointName(step: step) else { return nil }
      return FileManager.default.fileExists(atPath: "\(checkpointsPath)/\(name)/weights_ema.safetensors") ? step : nil
    }.sorted()
  }

  /// Writes a checkpoint: the files are produced by `write(tmpFolder)` in a temporary folder
  /// named for this process, the folder is renamed into place, then `latest` points at it.
  public func writeCheckpoint(step: Int, _ write: (String) throws -> Void) throws -> String {
    let fm = FileManager.default
    try fm.createDirectory(atPath: checkpointsPath, withIntermediateDirectories: true)
    let name = RunFolder.checkpointName(step: step)
    let tmp = "\(checkpointsPath)/.\(name).tmp-\(ProcessInfo.processInfo.processIdentifier)"
    let final = "\(checkpointsPath)/\(name)"
    if fm.fileExists(atPath: tmp) { try fm.removeItem(atPath: tmp) }
    try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    do {
      try write(tmp)
    } catch {
      try? fm.removeItem(atPath: tmp)
      throw error
    }
    if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }
    try fm.moveItem(atPath: tmp, toPath: final)
    try AtomicFile.write(name + "\n", to: latestPath)
    return final
  }
}
