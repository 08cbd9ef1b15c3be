/// Errors of the ABRA module; each message names the batch, field, file or step at fault.
public enum ABRAError: Error, CustomStringConvertible, Equatable {
  /// Held-out batch names that the data does not have.
  case unknownBatches(names: [String], known: [String])
  /// A batch (plate) with a single cell: its statistics cannot be estimated.
  case singleCellBatch(name: String)
  /// A batch chosen for evaluation that has no cells.
  case emptyBatch(name: String)
  /// Every batch is held out, or the training batches hold no cells.
  case noTrainingCells(heldOut: [String])
  /// A mini-batch the sampler drew that the method cannot use.
  case invalidMiniBatch(step: Int, reason: String)
  /// A classifier configuration value out of range or unreadable.
  case invalidConfig(String)
  /// Data that does not fit the trained model.
  case dataMismatch(String)
  /// A run folder that is incomplete or inconsistent.
  case invalidRun(path: String, reason: String)
  /// Training produced a non-finite loss.
  case diverged(step: Int, loss: String, value: Float)

  /// A message naming what is at fault.
  public var description: String {
    switch self {
    case .unknownBatches(let names, let known):
      let shown = known.prefix(20).joined(separator: ", ") + (known.count > 20 ? ", … (\(known.count) in all)" : "")
      return "unknown batch name\(names.count == 1 ? "" : "s") \(names.map { "'\($0)'" }.joined(separator: ", ")) in --holdout-batches; the data has: \(shown)"
    case .singleCellBatch(let name):
      return "batch '\(name)' has a single cell; batch statistics need at least two cells (hold it out or drop it)"
    case .emptyBatch(let name):
      return "batch '\(name)' has no cells to evaluate"
    case .noTrainingCells(let heldOut):
      return "no cells left to train on after holding out \(heldOut.count) batch\(heldOut.count == 1 ? "" : "es") (\(heldOut.joined(separator: ", ")))"
    case .invalidMiniBatch(let step, let reason):
      return "mini-batch of step \(step): \(reason)"
    case .invalidConfig(let s):
      return "invalid classifier configuration: \(s)"
    case .dataMismatch(let s):
      return s
    case .invalidRun(let p, let r):
      return "\(p): \(r)"
    case .diverged(let step, let loss, let v):
      return "training diverged at step \(step): \(loss) = \(v); the last good checkpoint is kept"
    }
  }
}
