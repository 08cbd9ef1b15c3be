import Foundation

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
