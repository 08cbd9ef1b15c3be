import Dispatch

/// Work splitting over the machine's cores for kernels that are not GEMMs.
///
/// GEMMs run on OpenBLAS's own threads; every other heavy kernel (im2col, elementwise,
/// reductions, pooling) splits its outermost loop here. Small jobs run inline, since waking
/// threads costs more than a few thousand flops.
public enum Parallel {
  /// Number of worker threads used for kernels (the number of active cores by default).
  public static let threads: Int = max(1, ProcessInfoCores.count)

  /// Work (in elements touched) below which a loop runs on the calling thread.
  public static let grain = 32_768

  /// Calls `body` on disjoint subranges covering `0..<n`, in parallel when `n · costPerItem` is
  /// large enough.
  @inline(__always)
  public static func forEach(
    _ n: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void
  ) {
    if n <= 0 { return }
    let t = min(threads, n)
    if t <= 1 || n * costPerItem < grain {
      body(0..<n)
      return
    }
    withoutActuallyEscaping(body) { body in
      let box = UncheckedBox(body)
      DispatchQueue.concurrentPerform(iterations: t) { i in
        let lo = n * i / t
        let hi = n * (i + 1) / t
        if lo < hi { box.value(lo..<hi) }
      }
    }
  }
}

/// Wraps a value for transfer into `concurrentPerform`. Callers guarantee that concurrent uses
/// touch disjoint memory.
struct UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

#if canImport(Glibc)
  import Glibc
#endif

enum ProcessInfoCores {
  static var count: Int {
    #if canImport(Glibc)
      if let s = getenv("GRAPE_THREADS").flatMap({ Int(String(cString: $0)) }), s > 0 { return s }
      return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
      return 2
    #endif
  }
}
