/// Exact quantiles of a channel's samples, gathered in one or two streaming passes with bounded
/// memory.
///
/// Integer samples (8- or 16-bit) are counted in a histogram with one bin per value, which gives
/// exact order statistics in one pass. Float samples are mapped to order-preserving 32-bit keys:
/// the first pass counts the upper 16 bits, the second counts the lower 16 bits of the samples that
/// fall in the few upper-bit bins holding the wanted ranks. Quantiles interpolate linearly between
/// order statistics, as `numpy.percentile` does by default.
struct ChannelQuantiles: Sendable {
  let pixelType: PixelType
  private(set) var count = 0
  private var coarse: [Int]
  /// Fine histograms of the lower key bits, by upper-bit bin (float samples only).
  private var fine: [Int: [Int]] = [:]

  init(pixelType: PixelType) {
    self.pixelType = pixelType
    coarse = [Int](repeating: 0, count: pixelType == .uint8 ? 256 : 65536)
  }

  /// Whether a second pass (``addFine(_:)``) is needed after ``prepareRefinement(quantiles:)``.
  var needsRefinement: Bool { pixelType == .float32 }

  /// Counts samples in the first pass.
  mutating func add(_ samples: UnsafeBufferPointer<UInt8>) {
    for v in samples { coarse[Int(v)] += 1 }
    count += samples.count
  }

  /// Counts samples in the first pass.
  mutating func add(_ samples: UnsafeBufferPointer<UInt16>) {
    coarse.withUnsafeMutableBufferPointer { bins in
      for v in samples { bins[Int(v)] += 1 }
    }
    count += samples.count
  }

  /// Counts samples in the first pass (finite samples only).
  mutating func add(_ samples: UnsafeBufferPointer<Float>) {
    coarse.withUnsafeMutableBufferPointer { bins in
      for v in samples { bins[Int(Self.key(v) >> 16)] += 1 }
    }
    count += samples.count
  }

  /// Adds another counter's first-pass counts.
  mutating func merge(_ other: ChannelQuantiles) {
    for i in coarse.indices { coarse[i] += other.coarse[i] }
    count += other.count
    for (bin, counts) in other.fine {
      var mine = fine[bin] ?? [Int](repeating: 0, count: 65536)
      for i in mine.indices { mine[i] += counts[i] }
      fine[bin] = mine
    }
  }

  /// Allocates fine histograms for the bins that hold the ranks needed by `quantiles` (in 0...1).
  mutating func prepareRefinement(quantiles: [Double]) {
    guard needsRefinement, count > 0 else { return }
    for rank in Self.ranks(count: count, quantiles: quantiles).flatMap({ [$0.lower, $0.upper] }) {
      let (bin, _) = locate(rank: rank)
      if fine[bin] == nil { fine[bin] = [Int](repeating: 0, count: 65536) }
    }
  }

  /// Counts samples in the second pass (float samples only).
  mutating func addFine(_ samples: UnsafeBufferPointer<Float>) {
    guard !fine.isEmpty else { return }
    for v in samples {
      let key = Self.key(v)
      let bin = Int(key >> 16)
      if fine[bin] != nil { fine[bin]?[Int(key & 0xFFFF)] += 1 }
    }
  }

  /// An empty counter with the same fine bins, for a worker of the second pass.
  func emptyRefinement() -> ChannelQuantiles {
    var copy = ChannelQuantiles(pixelType: pixelType)
    for bin in fine.keys { copy.fine[bin] = [Int](repeating: 0, count: 65536) }
    return copy
  }

  /// Adds another counter's second-pass counts.
  mutating func mergeFine(_ other: ChannelQuantiles) {
    for (bin, counts) in other.fine {
      guard var mine = fine[bin] else { continue }
      for i in mine.indices { mine[i] += counts[i] }
      fine[bin] = mine
    }
  }

  /// The quantiles (each in 0...1), interpolated linearly between order statistics.
  func values(quantiles: [Double]) -> [Double] {
    guard count > 0 else { return quantiles.map { _ in .nan } }
    return Self.ranks(count: count, quantiles: quantiles).map { r in
      let low = value(rank: r.lower)
      let high = value(rank: r.upper)
      return low + (high - low) * r.fraction
    }
  }

  // MARK: - Internals

  /// The bins and the rank inside the bin of the sample of 0-based `rank` in sorted order.
  private func locate(rank: Int) -> (bin: Int, within: Int) {
    var seen = 0
    for (bin, n) in coarse.enumerated() where n > 0 {
      if rank < seen + n { return (bin, rank - seen) }
      seen += n
    }
    return (coarse.count - 1, 0)
  }

  private func value(rank: Int) -> Double {
    let (bin, within) = locate(rank: rank)
    switch pixelType {
    case .uint8, .uint16:
      return Double(bin)
    case .float32:
      guard let counts = fine[bin] else { return .nan }
      var seen = 0
      for (low, n) in counts.enumerated() where n > 0 {
        if within < seen + n { return Double(Self.float(fromKey: UInt32(bin) << 16 | UInt32(low))) }
        seen += n
      }
      return .nan
    }
  }

  /// The ranks (0-based) and interpolation fractions of `quantiles`, as numpy's linear method.
  static func ranks(count: Int, quantiles: [Double]) -> [(lower: Int, upper: Int, fraction: Double)]
  {
    quantiles.map { q in
      let position = q * Double(count - 1)
      let lower = Int(position.rounded(.down))
      return (lower, min(lower + 1, count - 1), position - Double(lower))
    }
  }

  /// An order-preserving key: `a < b` exactly when `key(a) < key(b)` (for non-NaN floats).
  @inline(__always) static func key(_ value: Float) -> UInt32 {
    let bits = value.bitPattern
    return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
  }

  /// The float whose key is `key`.
  static func float(fromKey key: UInt32) -> Float {
    Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7FFF_FFFF : ~key)
  }
}

/// Count, mean and sum of squared deviations of a stream of samples, mergeable (Chan et al.).
struct RunningMoments: Sendable, Equatable {
  private(set) var count: Double = 0
  private(set) var mean: Double = 0
  private(set) var m2: Double = 0

  /// Adds a block of samples (its own mean and deviations first, then a merge).
  mutating func add<S: Sequence>(_ samples: S) where S.Element == Double {
    var n = 0.0
    var sum = 0.0
    var values: [Double] = []
    for v in samples {
      values.append(v)
      sum += v
      n += 1
    }
    guard n > 0 else { return }
    let blockMean = sum / n
    var blockM2 = 0.0
    for v in values { blockM2 += (v - blockMean) * (v - blockMean) }
    merge(count: n, mean: blockMean, m2: blockM2)
  }

  /// Merges another set of moments.
  mutating func merge(_ other: RunningMoments) {
    merge(count: other.count, mean: other.mean, m2: other.m2)
  }

  private mutating func merge(count n: Double, mean otherMean: Double, m2 otherM2: Double) {
    guard n > 0 else { return }
    let total = count + n
    let delta = otherMean - mean
    mean += delta * n / total
    m2 += otherM2 + delta * delta * count * n / total
    count = total
  }

  /// The population standard deviation (`numpy.std` with `ddof=0`).
  var standardDeviation: Double { count > 0 ? (m2 / count).squareRoot() : .nan }
}
