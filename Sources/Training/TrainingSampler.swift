import Foundation
import GrapeSupport

/// Draws the cell indices of each mini-batch; its state is saved in checkpoints so a resumed
/// run draws the same batches.
public protocol TrainingSampler: AnyObject {
  /// The next mini-batch of cell indices.
  func next() -> [Int]
  /// The state as JSON.
  func state() throws -> Data
  /// Restores a state written by ``state()``.
  func restore(_ data: Data) throws
}

/// How a run draws its mini-batches (`sampler` in a run's `config.json`).
public enum SamplerKind: String, ConfigChoice {
  /// Every gene equally often in each mini-batch, cells from any batch (GRAPE's sampler).
  case classBalanced = "class_balanced"
  /// Every cell of a mini-batch from one experimental batch, genes balanced within it (ABRA's
  /// plate-consistent mini-batches).
  case plate
}
