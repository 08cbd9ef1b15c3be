import Foundation
import GrapeSupport
import OPSData
import Training

extension GRAPEInference {
  /// What a file made from a trained run records about it: `run` (absolute path),
  /// `checkpoint_step`, `ema`, `config` (the text of `config.json`) and, when given, `data`
  /// (absolute path of the cell store), on top of the toolkit version and the time.
  ///
  /// - Parameters:
  ///   - run: the run folder.
  ///   - step: the checkpoint asked for (nil: the newest, whose step is read from its folder name
  ///     `step-NNNNNNNN` or its `state.json`; left out when neither gives one).
  ///   - useEMA: whether the weight average was used.
  ///   - data: the cell store the file was computed from, if any.
  public static func provenance(run: String, step: Int?, useEMA: Bool, data: String? = nil) -> OutputProvenance {
    let folder = RunFolder(path: run)
    var record = OutputProvenance()
    record.set("run", .string(OutputProvenance.absolutePath(run)))
    if let resolved = step ?? latestStep(folder) { record.set("checkpoint_step", .int(resolved)) }
    record.set("ema", .bool(useEMA))
    if let data { record.set("data", .string(OutputProvenance.absolutePath(data))) }
    if let config = try? String(contentsOfFile: folder.configPath, encoding: .utf8) { record.set("config", .string(config)) }
    return record
  }

  /// The step of the newest checkpoint when `checkpoints/latest` names a folder `step-NNNNNNNN`,
  /// else nil. Commands load that step explicitly, so that the step they record is the one they
  /// read even when a training process writes a newer checkpoint meanwhile.
  public static func newestCheckpointStep(run: String) -> Int? {
    guard let dir = try? RunFolder(path: run).latestCheckpoint() else { return nil }
    let name = (dir as NSString).lastPathComponent
    guard name.hasPrefix("step-"), let step = Int(name.dropFirst(5)), RunFolder.checkpointName(step: step) == name else {
      return nil
    }
    return step
  }

  /// The step of the newest checkpoint: from its folder name, else from its `state.json`.
  private static func latestStep(_ folder: RunFolder) -> Int? {
    if let step = newestCheckpointStep(run: folder.path) { return step }
    guard let dir = try? folder.latestCheckpoint(), let data = FileManager.default.contents(atPath: "\(dir)/state.json"),
      let state = try? JSONValue.parse(data), case .int(let step)? = state["step"]
    else { return nil }
    return step
  }
}
