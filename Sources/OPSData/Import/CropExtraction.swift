/// Cuts a `[C, h, w]` crop at (`top`, `left`) out of a `[C, H, W]` image, keeping the sample type.
func extractCrop(_ image: TIFFImage, top: Int, left: Int, height: Int, width: Int) -> PixelBuffer {
  func cut<T>(_ source: [T]) -> [T] {
    var out: [T] = []
    out.reserveCapacity(image.channels * height * width)
    let plane = image.width * image.height
    for c in 0..<image.channels {
      for y in top..<(top + height) {
        let start = c * plane + y * image.width + left
        out.append(contentsOf: source[start..<(start + width)])
      }
    }
    return out
  }
  switch image.pixels {
  case .uint8(let v): return .uint8(cut(v))
  case .uint16(let v): return .uint16(cut(v))
  case .float32(let v): return .float32(cut(v))
  }
}

/// The first non-finite sample of a float crop: its channel and value; `nil` when all are finite.
func firstNonFinite(_ crop: PixelBuffer, plane: Int) -> (channel: Int, value: Float)? {
  guard case .float32(let values) = crop else { return nil }
  guard let index = values.firstIndex(where: { !$0.isFinite }) else { return nil }
  return (index / plane, values[index])
}

/// The intensity transform of an import: percentile rescaling, control z-scoring, both or none.
struct IntensityTransform: Sendable {
  /// Per channel 0.1 and 99.9 percentiles, when rescaling.
  var percentiles: [(low: Double, high: Double)]?
  /// Per batch, per channel mean and standard deviation of the controls, when z-scoring.
  var controls: [[(mean: Double, std: Double)]]?

  /// Whether percentiles come from each source image (then ``percentiles`` is set per image).
  var perImagePercentiles = false

  /// Whether the output is float (any normalisation) rather than the input's integers.
  var isIdentity: Bool { percentiles == nil && controls == nil && !perImagePercentiles }

  /// This transform with the percentiles of one source image.
  func forImage(_ ranges: [(low: Double, high: Double)]?) -> IntensityTransform {
    guard perImagePercentiles else { return self }
    var copy = self
    copy.percentiles = ranges
    return copy
  }

  /// The rescaled, clipped value of `v` in `channel` (percentiles only).
  @inline(__always) func rescaled(_ v: Double, channel: Int) -> Double {
    guard let p = percentiles?[channel] else { return v }
    return min(max((v - p.low) / (p.high - p.low), 0), 1)
  }

  /// Applies the transform to a `[C, h, w]` crop of a cell of `batch`, appending floats to `out`.
  func apply(_ crop: PixelBuffer, batch: Int, plane: Int, into out: inout [Float]) {
    let channels = crop.count / plane
    for c in 0..<channels {
      let z = controls?[batch][c]
      let p = percentiles?[c]
      let scale = p.map { 1 / ($0.high - $0.low) } ?? 1
      let low = p?.low ?? 0
      let mean = z?.mean ?? 0
      let inverseStd = z.map { 1 / $0.std } ?? 1
      for i in (c * plane)..<((c + 1) * plane) {
        var v = Double(crop.float(at: i))
        if p != nil { v = min(max((v - low) * scale, 0), 1) }
        if z != nil { v = (v - mean) * inverseStd }
        out.append(Float(v))
      }
    }
  }
}

/// The per-channel 0.1 and 99.9 percentiles of a whole `[C, H, W]` image, or the index of a
/// channel whose two percentiles are equal.
func imagePercentileRanges(_ image: TIFFImage) -> Result<
  [(low: Double, high: Double)], ConstantChannel
> {
  let plane = image.width * image.height
  let quantiles = [CellImporter.percentileRange.low, CellImporter.percentileRange.high]
  var ranges: [(low: Double, high: Double)] = []
  for c in 0..<image.channels {
    var counter = ChannelQuantiles(pixelType: image.pixelType)
    let range = (c * plane)..<((c + 1) * plane)
    switch image.pixels {
    case .uint8(let v): v[range].withUnsafeBufferPointer { counter.add($0) }
    case .uint16(let v): v[range].withUnsafeBufferPointer { counter.add($0) }
    case .float32(let v):
      v[range].withUnsafeBufferPointer { counter.add($0) }
      counter.prepareRefinement(quantiles: quantiles)
      v[range].withUnsafeBufferPointer { counter.addFine($0) }
    }
    let values = counter.values(quantiles: quantiles)
    guard values[1] > values[0] else {
      return .failure(ConstantChannel(channel: c, value: values[0]))
    }
    ranges.append((values[0], values[1]))
  }
  return .success(ranges)
}

/// A channel that cannot be rescaled because its percentiles coincide.
struct ConstantChannel: Error {
  let channel: Int
  let value: Double
}
