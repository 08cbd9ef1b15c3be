import Foundation
import GrapeSupport

/// Timing of random mini-batch reads from a cell store (`grape inspect --time-reads`).
public struct ReadTiming: Sendable {
  /// Cells per mini-batch.
  public let batchSize: Int
  /// Mini-batches read.
  public let batches: Int
  /// Median and mean milliseconds per mini-batch.
  public let medianMilliseconds: Double
  /// Mean milliseconds per mini-batch.
  public let meanMilliseconds: Double
  /// Cells read per second overall.
  public let cellsPerSecond: Double

  /// Reads `batches` mini-batches of `batchSize` cells drawn uniformly at random (seeded), as
  /// float images, and times each read.
  public static func measure(store: CellStore, batchSize: Int, batches: Int, seed: UInt64) throws
    -> ReadTiming
  {
    guard store.count > 0 else {
      throw OPSDataError.invalidArgument(
        name: store.path, message: "the store holds no cells to read")
    }
    guard batchSize > 0, batches > 0 else {
      throw OPSDataError.invalidArgument(
        name: "read timing",
        message: "batch size \(batchSize) and batch count \(batches) must be positive")
    }
    var generator = RandomGenerator(seed: seed)
    var times: [Double] = []
    var buffer = [Float](repeating: 0, count: batchSize * store.valuesPerCell)
    for _ in 0..<batches {
      let indices = (0..<batchSize).map { _ in generator.int(below: store.count) }
      let start = DispatchTime.now().uptimeNanoseconds
      try buffer.withUnsafeMutableBufferPointer { try store.images(at: indices, into: $0) }
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    let total = times.reduce(0, +)
    let sorted = times.sorted()
    return ReadTiming(
      batchSize: batchSize, batches: batches, medianMilliseconds: sorted[sorted.count / 2],
      meanMilliseconds: total / Double(batches),
      cellsPerSecond: Double(batchSize * batches) / (total / 1000))
  }

  /// One line: batch size, milliseconds per batch and cells per second.
  public func render() -> String {
    String(
      format:
        "random reads, batch %d: %.2f ms median, %.2f ms mean per batch, %.0f cells/s (%d batches)",
      batchSize, medianMilliseconds, meanMilliseconds, cellsPerSecond, batches)
  }
}
