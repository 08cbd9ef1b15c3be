import Synchronization

/// Counts the floating-point operations of GEMMs and convolutions executed by the CPU backend
/// (2 per multiply–add), so benchmarks can report achieved GFLOP/s.
public enum FlopCounter {
  private static let total = Atomic<Int>(0)

  /// Adds `flops` to the count.
  @inline(__always)
  static func add(_ flops: Int) { total.add(flops, ordering: .relaxed) }

  /// Operations counted since the last ``reset()``.
  public static var count: Int { total.load(ordering: .relaxed) }

  /// Sets the count to zero.
  public static func reset() { total.store(0, ordering: .relaxed) }
}
