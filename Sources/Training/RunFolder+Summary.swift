import Foundation
import GrapeSupport

extension RunFolder {
  /// Fields of `config.json` shown first by ``summary()``; the other keys are listed by name.
  static let summaryFields = [
    "preset", "img_size", "in_channels", "channels", "dim_in", "max_conv_dim", "style_dim", "latent_dim",
    "mapping_hidden", "genes", "abra", "batch_size", "steps", "seed", "data", "input_transform",
  ]

  /// A readable summary of the run (`grape inspect RUN`): the main configuration fields, the
  /// newest checkpoint and the files it holds, the number of checkpoints and the last log row.
  public func summary() throws -> String {
    guard let data = FileManager.default.contents(atPath: configPath) else {
      throw TrainingError.invalidRun(path: configPath, reason: "cannot read")
    }
    guard let config = try? JSONValue.parse(data), case .object(let fields) = config else {
      throw TrainingError.invalidRun(path: configPath, reason: "is not a JSON object")
    }
    var lines = ["run \(path)"]
    for key in Self.summaryFields {
      if let value = config[key] { lines.append("  " + key.padding(toLength: 15, withPad: " ", startingAt: 0) + value.text) }
    }
    let others = fields.map(\.0).filter { !Self.summaryFields.contains($0) }.sorted()
    if !others.isEmpty { lines.append("  other keys     \(others.joined(separator: ", "))") }
    if let folder = try? latestCheckpoint() {
      let files = ["weights.safetensors", "weights_ema.safetensors", "optimizer.safetensors", "state.json"].filter {
        FileManager.default.fileExists(atPath: "\(folder)/\($0)")
      }
      let name = (folder as NSString).lastPathComponent
      lines.append("  latest         \(name)" + (files.isEmpty ? " (folder missing or empty)" : " (\(files.joined(separator: ", ")))"))
      // Read loosely: a summary should show the step of a state file this version cannot restore.
      if let data = FileManager.default.contents(atPath: "\(folder)/state.json"), let state = try? JSONValue.parse(data), let step = state["step"] {
        lines.append("  step           \(step.text)")
      }
    } else {
      lines.append("  latest         (no checkpoint)")
    }
    if let names = try? FileManager.default.contentsOfDirectory(atPath: checkpointsPath) {
      lines.append("  checkpoints    \(names.filter { $0.hasPrefix("step-") }.count)")
    }
    if let log = try? String(contentsOfFile: logPath, encoding: .utf8) {
      let rows = log.split(separator: "\n")
      if rows.count >= 2, let header = rows.first, let last = rows.last {
        lines.append("  log            \(rows.count - 1) rows; last:")
        for (key, value) in zip(header.split(separator: "\t"), last.split(separator: "\t")) {
          lines.append("    " + String(key).padding(toLength: 13, withPad: " ", startingAt: 0) + String(value))
        }
      }
    }
    return lines.joined(separator: "\n")
  }
}
