import Synchronization

/// A contiguous float32 buffer owned by one or more tensors.
///
/// Invariant: the contents are written only while the buffer is being produced by a kernel
/// (before any tensor shares it) or while it is uniquely referenced (optimiser updates, through
/// `Tensor.withUnsafeMutableScalars`). That is why the class can be `@unchecked Sendable`.
///
/// Buffers come from and return to ``BufferPool``, so a training loop that allocates the same
/// shapes every iteration reuses memory instead of asking the system for fresh pages.
public final class Storage: @unchecked Sendable {
  /// The first element.
  public let pointer: UnsafeMutablePointer<Float>
  /// Number of elements.
  public let count: Int
  /// Capacity actually reserved (the pool's size class).
  let capacity: Int

  /// Allocates an uninitialised buffer of `count` floats.
  public init(uninitializedCount count: Int) {
    precondition(count >= 0, "Storage: negative element count \(count)")
    let (p, cap) = BufferPool.shared.take(count)
    self.pointer = p
    self.count = count
    self.capacity = cap
  }

  /// Allocates a buffer filled with `value`.
  public convenience init(repeating value: Float, count: Int) {
    self.init(uninitializedCount: count)
    pointer.update(repeating: value, count: count)
  }

  /// Allocates a buffer holding a copy of `values`.
  public convenience init<C: Collection>(_ values: C) where C.Element == Float {
    self.init(uninitializedCount: values.count)
    var i = 0
    for v in values {
      pointer[i] = v
      i += 1
    }
  }

  deinit { BufferPool.shared.give(pointer, capacity: capacity) }

  /// The contents as a buffer pointer.
  public var buffer: UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: pointer, count: count)
  }
}

/// A process-wide cache of float buffers grouped in size classes.
///
/// Sizes are rounded up to a class (powers of two split in four steps), so a freed buffer serves
/// any later request of the same class. The pool holds at most ``limitBytes`` of idle memory;
/// beyond that freed buffers go back to the system.
public final class BufferPool: Sendable {
  /// The pool every ``Storage`` uses.
  public static let shared = BufferPool()

  private struct State {
    var free: [Int: [UInt]] = [:]  // addresses, kept as integers so the state is Sendable
    var idleBytes = 0
    var liveBytes = 0
    var peakLiveBytes = 0
    var hits = 0
    var misses = 0
  }
  private let state = Mutex(State())
  /// Most idle bytes kept for reuse.
  public let limitBytes: Int

  init(limitBytes: Int = 3 << 30) { self.limitBytes = limitBytes }

  /// The size class that `count` rounds up to.
  static func sizeClass(_ count: Int) -> Int {
    if count <= 64 { return 64 }
    let top = Int.bitWidth - (count - 1).leadingZeroBitCount  // 2^top >= count
    let base = 1 << (top - 1)
    let step = base / 4
    return ((count - base + step - 1) / step) * step + base
  }

  func take(_ count: Int) -> (UnsafeMutablePointer<Float>, Int) {
    let cap = BufferPool.sizeClass(max(count, 1))
    let reused: UnsafeMutablePointer<Float>? = state.withLock { s in
      s.liveBytes += cap * 4
      s.peakLiveBytes = max(s.peakLiveBytes, s.liveBytes)
      if var list = s.free[cap], let p = list.popLast() {
        s.free[cap] = list
        s.idleBytes -= cap * 4
        s.hits += 1
        return UnsafeMutablePointer(bitPattern: p)
      }
      s.misses += 1
      return nil
    }
    if let p = reused { return (p, cap) }
    let raw = UnsafeMutableRawPointer.allocate(byteCount: cap * 4, alignment: 64)
    return (raw.bindMemory(to: Float.self, capacity: cap), cap)
  }

  func give(_ p: UnsafeMutablePointer<Float>, capacity cap: Int) {
    let address = UInt(bitPattern: p)
    let keep = state.withLock { s -> Bool in
      s.liveBytes -= cap * 4
      if s.idleBytes + cap * 4 > limitBytes { return false }
      s.free[cap, default: []].append(address)
      s.idleBytes += cap * 4
      return true
    }
    if !keep { UnsafeMutableRawPointer(p).deallocate() }
  }

  /// Releases every idle buffer to the system.
  public func drain() {
    let all = state.withLock { s -> [UInt] in
      let ptrs = s.free.values.flatMap { $0 }
      s.free = [:]
      s.idleBytes = 0
      return ptrs
    }
    for a in all { UnsafeMutableRawPointer(bitPattern: a)?.deallocate() }
  }

  /// Counters: bytes held by live tensors, their peak, idle bytes, reuse hits and misses.
  public var statistics: (liveBytes: Int, peakLiveBytes: Int, idleBytes: Int, hits: Int, misses: Int) {
    state.withLock { s in (s.liveBytes, s.peakLiveBytes, s.idleBytes, s.hits, s.misses) }
  }

  /// Resets the peak counter to the current live bytes.
  public func resetPeak() { state.withLock { $0.peakLiveBytes = $0.liveBytes } }
}
