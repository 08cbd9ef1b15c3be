import GrapeSupport

/// Parallel loops over the machine's cores for independent work items (restarts, queries).
enum ParallelMap {
  /// `f(i)` for every `i` in `0..<count`, computed in contiguous chunks over the cores when
  /// `count · costPerItem` is large enough (see `Parallel.forEach`). `f` must only read shared
  /// state. The result order is the index order, whatever the thread count.
  static func map<T>(_ count: Int, costPerItem: Int, _ f: (Int) -> T) -> [T] {
    guard count > 0 else { return [] }
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      guard let base = buffer.baseAddress else { return }
      Parallel.forEach(count, costPerItem: costPerItem) { range in
        for i in range { (base + i).initialize(to: f(i)) }
      }
      initialized = count
    }
  }
}
