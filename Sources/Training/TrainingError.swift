/// Errors of training and of run folders (GRAPE and the classifier alike).
public enum TrainingError: Error, CustomStringConvertible, Equatable {
  /// A configuration value out of range or unreadable.
  case invalidConfig(String)
  /// A run folder that is incomplete or inconsistent.
  case invalidRun(path: String, reason: String)
  /// Training produced a non-finite loss.
  case diverged(step: Int, loss: String, value: Float)
  /// Data that does not fit the model.
  case dataMismatch(String)
  /// Another process holds the run folder's lock (its process id when known).
  case runInUse(path: String, pid: Int32?)
  /// The ranks of a data-parallel run hold different weights.
  case ranksDiverged(step: Int)

  public var description: String {
    switch self {
    case .invalidConfig(let s): return "invalid configuration: \(s)"
    case .invalidRun(let p, let r): return "\(p): \(r)"
    case .diverged(let step, let loss, let v): return "training diverged at step \(step): \(loss) = \(v); the last good checkpoint is kept"
    case .dataMismatch(let s): return s
    case .runInUse(let p, let pid):
      return "\(p): another process\(pid.map { " (pid \($0))" } ?? "") is training this run; wait for it to finish or choose another --run"
    case .ranksDiverged(let step):
      return "the ranks of this data-parallel run hold different weights at step \(step); the last good checkpoint is kept (check that every rank runs the same grape build on the same data)"
    }
  }
}
