/// Hand-made features of one single-cell crop `[C, H, W]` (the engineered-feature baseline).
///
/// Per channel: intensity mean, standard deviation and the 10/25/50/75/90 % quantiles (linear
/// interpolation, as `numpy.quantile`); gradient-magnitude mean and standard deviation (central
/// differences on interior pixels); Haralick contrast and homogeneity of the grey-level
/// co-occurrence matrix (`levels` grey levels between the crop's minimum and maximum, offsets
/// right and down, symmetric, normalised); the fraction of bright-spot pixels (above mean +
/// `spotSigma` · std); the mean intensity inside and outside the nucleus mask.
///
/// Nucleus (first channel, DNA): Otsu threshold over a `otsuBins`-bin histogram, then the largest
/// 4-connected region above it: area as a fraction of the crop, eccentricity and major/minor axis
/// lengths from the second moments (`4√λ`, as scikit-image's `regionprops`), and the distance of
/// its centroid from the crop centre relative to the crop size.
public struct CellFeatureSpec: Sendable, Equatable {
  /// Channels per crop.
  public let channels: Int
  /// Crop height.
  public let height: Int
  /// Crop width.
  public let width: Int
  /// Grey levels of the co-occurrence matrix.
  public var levels: Int
  /// Histogram bins of the Otsu threshold.
  public var otsuBins: Int
  /// Bright-spot threshold in standard deviations above the mean.
  public var spotSigma: Double

  /// Features per channel.
  public static let perChannel = 14
  /// Nucleus-shape features.
  public static let nucleus = 5

  /// A feature specification for `[channels, height, width]` crops.
  public init(
    channels: Int, height: Int, width: Int, levels: Int = 8, otsuBins: Int = 64,
    spotSigma: Double = 2
  ) {
    self.channels = channels
    self.height = height
    self.width = width
    self.levels = levels
    self.otsuBins = otsuBins
    self.spotSigma = spotSigma
  }

  /// Number of features per cell.
  public var count: Int { channels * Self.perChannel + Self.nucleus }

  /// Feature names, in output order (`ch0_mean`, …, `nucleus_area`, …).
  public var names: [String] {
    let per = [
      "mean", "std", "q10", "q25", "q50", "q75", "q90", "gradient_mean", "gradient_std",
      "glcm_contrast", "glcm_homogeneity", "spot_fraction", "nucleus_mean", "outside_mean",
    ]
    var out: [String] = []
    for c in 0..<channels { out += per.map { "ch\(c)_\($0)" } }
    out += [
      "nucleus_area", "nucleus_eccentricity", "nucleus_major_axis", "nucleus_minor_axis",
      "nucleus_offset",
    ]
    return out
  }

  /// Feature names with each channel's own name in place of `ch<c>` (`DNA_mean`,
  /// `DNA_gradient_mean`, …, then the nucleus features), for tables that name their columns by
  /// what they measure. Characters other than letters, digits and `_` become `_`; with a wrong
  /// number of channel names, or names that repeat after that, the `ch<c>` names are kept.
  public func names(channels channelNames: [String]) -> [String] {
    let safe = channelNames.map { name in
      String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    }
    guard safe.count == channels, Set(safe).count == safe.count, !safe.contains("") else { return names }
    let per = Self.perChannel
    return names.enumerated().map { i, name in
      guard i < channels * per, let cut = name.firstIndex(of: "_") else { return name }
      return safe[i / per] + name[cut...]
    }
  }

  /// The features of one crop, `image` holding `channels × height × width` values.
  public func features(of image: UnsafeBufferPointer<Float>) -> [Double] {
    precondition(image.count == channels * height * width)
    let pixels = height * width
    var out: [Double] = []
    out.reserveCapacity(count)
    let mask = nucleusMask(UnsafeBufferPointer(rebasing: image[0..<pixels]))
    var sorted = [Float](repeating: 0, count: pixels)
    for c in 0..<channels {
      let ch = UnsafeBufferPointer(rebasing: image[(c * pixels)..<((c + 1) * pixels)])
      var sum = 0.0
      var sumSq = 0.0
      for v in ch {
        sum += Double(v)
        sumSq += Double(v) * Double(v)
      }
      let mean = sum / Double(pixels)
      let std = max(0, sumSq / Double(pixels) - mean * mean).squareRoot()
      for i in 0..<pixels { sorted[i] = ch[i] }
      sorted.sort()
      out.append(mean)
      out.append(std)
      for q in [0.1, 0.25, 0.5, 0.75, 0.9] { out.append(quantile(sorted, q)) }
      let (gm, gs) = gradientStatistics(ch)
      out.append(gm)
      out.append(gs)
      let (contrast, homogeneity) = cooccurrence(ch, low: sorted[0], high: sorted[pixels - 1])
      out.append(contrast)
      out.append(homogeneity)
      let threshold = mean + spotSigma * std
      var bright = 0
      for v in ch where Double(v) > threshold { bright += 1 }
      out.append(std > 0 ? Double(bright) / Double(pixels) : 0)
      var inside = 0.0
      var insideCount = 0
      for i in 0..<pixels where mask.pixels[i] {
        inside += Double(ch[i])
        insideCount += 1
      }
      let outsideCount = pixels - insideCount
      out.append(insideCount > 0 ? inside / Double(insideCount) : mean)
      out.append(outsideCount > 0 ? (sum - inside) / Double(outsideCount) : mean)
    }
    out.append(Double(mask.area) / Double(pixels))
    out.append(mask.eccentricity)
    out.append(mask.majorAxis)
    out.append(mask.minorAxis)
    out.append(mask.centreOffset)
    return out
  }

  /// `numpy.quantile(values, q)` with linear interpolation on sorted values.
  func quantile(_ sorted: [Float], _ q: Double) -> Double {
    let pos = q * Double(sorted.count - 1)
    let lo = Int(pos)
    let hi = min(lo + 1, sorted.count - 1)
    let f = pos - Double(lo)
    return Double(sorted[lo]) + (Double(sorted[hi]) - Double(sorted[lo])) * f
  }

  /// Mean and standard deviation of the central-difference gradient magnitude on interior pixels.
  func gradientStatistics(_ ch: UnsafeBufferPointer<Float>) -> (Double, Double) {
    guard height >= 3 && width >= 3 else { return (0, 0) }
    var sum = 0.0
    var sumSq = 0.0
    var count = 0
    for y in 1..<(height - 1) {
      for x in 1..<(width - 1) {
        let gx = Double(ch[y * width + x + 1] - ch[y * width + x - 1]) * 0.5
        let gy = Double(ch[(y + 1) * width + x] - ch[(y - 1) * width + x]) * 0.5
        let m = (gx * gx + gy * gy).squareRoot()
        sum += m
        sumSq += m * m
        count += 1
      }
    }
    let mean = sum / Double(count)
    return (mean, max(0, sumSq / Double(count) - mean * mean).squareRoot())
  }

  /// Haralick contrast and homogeneity of the symmetric, normalised co-occurrence matrix for the
  /// offsets (0, 1) and (1, 0), on `levels` grey levels spanning `[low, high]`.
  func cooccurrence(_ ch: UnsafeBufferPointer<Float>, low: Float, high: Float) -> (Double, Double) {
    let l = max(levels, 2)
    let span = Double(high) - Double(low)
    guard span > 0 else { return (0, 1) }
    var q = [Int](repeating: 0, count: ch.count)
    for i in 0..<ch.count {
      q[i] = min(l - 1, Int((Double(ch[i]) - Double(low)) / span * Double(l)))
    }
    var m = [Double](repeating: 0, count: l * l)
    var total = 0.0
    for y in 0..<height {
      for x in 0..<width {
        let a = q[y * width + x]
        if x + 1 < width {
          let b = q[y * width + x + 1]
          m[a * l + b] += 1
          m[b * l + a] += 1
          total += 2
        }
        if y + 1 < height {
          let b = q[(y + 1) * width + x]
          m[a * l + b] += 1
          m[b * l + a] += 1
          total += 2
        }
      }
    }
    guard total > 0 else { return (0, 1) }
    var contrast = 0.0
    var homogeneity = 0.0
    for i in 0..<l {
      for j in 0..<l {
        let p = m[i * l + j] / total
        let dd = Double((i - j) * (i - j))
        contrast += p * dd
        homogeneity += p / (1 + dd)
      }
    }
    return (contrast, homogeneity)
  }

  /// The nucleus: the largest 4-connected region above the Otsu threshold of the DNA channel.
  struct Mask {
    var pixels: [Bool]
    var area: Int
    var eccentricity: Double
    var majorAxis: Double
    var minorAxis: Double
    var centreOffset: Double
  }

  func nucleusMask(_ dna: UnsafeBufferPointer<Float>) -> Mask {
    let pixels = dna.count
    var mask = Mask(
      pixels: [Bool](repeating: false, count: pixels), area: 0, eccentricity: 0, majorAxis: 0,
      minorAxis: 0, centreOffset: 0)
    guard let threshold = OtsuThreshold.threshold(dna, bins: otsuBins) else { return mask }
    var above = [Bool](repeating: false, count: pixels)
    for i in 0..<pixels { above[i] = dna[i] > threshold }
    // Largest 4-connected component (flood fill with an explicit stack).
    var component = [Int](repeating: -1, count: pixels)
    var best: [Int] = []
    var stack: [Int] = []
    for start in 0..<pixels where above[start] && component[start] < 0 {
      var members: [Int] = []
      component[start] = start
      stack.append(start)
      while let p = stack.popLast() {
        members.append(p)
        let y = p / width
        let x = p % width
        for (ny, nx) in [(y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)]
        where ny >= 0 && ny < height && nx >= 0 && nx < width {
          let np = ny * width + nx
          if above[np] && component[np] < 0 {
            component[np] = start
            stack.append(np)
          }
        }
      }
      if members.count > best.count { best = members }
    }
    guard !best.isEmpty else { return mask }
    for p in best { mask.pixels[p] = true }
    let n = Double(best.count)
    var cy = 0.0
    var cx = 0.0
    for p in best {
      cy += Double(p / width)
      cx += Double(p % width)
    }
    cy /= n
    cx /= n
    var syy = 0.0
    var sxx = 0.0
    var sxy = 0.0
    for p in best {
      let dy = Double(p / width) - cy
      let dx = Double(p % width) - cx
      syy += dy * dy
      sxx += dx * dx
      sxy += dx * dy
    }
    syy /= n
    sxx /= n
    sxy /= n
    let mid = (sxx + syy) / 2
    let root = (((sxx - syy) / 2) * ((sxx - syy) / 2) + sxy * sxy).squareRoot()
    let l1 = mid + root
    let l2 = max(0, mid - root)
    mask.area = best.count
    mask.eccentricity = l1 > 0 ? (1 - l2 / l1).squareRoot() : 0
    mask.majorAxis = 4 * l1.squareRoot()
    mask.minorAxis = 4 * l2.squareRoot()
    let oy = (cy - Double(height - 1) / 2) / Double(height)
    let ox = (cx - Double(width - 1) / 2) / Double(width)
    mask.centreOffset = (oy * oy + ox * ox).squareRoot()
    return mask
  }
}

/// Otsu's threshold (Otsu, 1979): the histogram cut that maximises the between-class variance.
public enum OtsuThreshold {
  /// The threshold of `values` over a histogram of `bins` equal bins between their minimum and
  /// maximum (the upper edge of the best lower class), or `nil` for constant input.
  public static func threshold(_ values: UnsafeBufferPointer<Float>, bins: Int = 64) -> Float? {
    guard let lo = values.min(), let hi = values.max(), hi > lo else { return nil }
    let b = max(bins, 2)
    var hist = [Double](repeating: 0, count: b)
    let scale = Double(b) / (Double(hi) - Double(lo))
    for v in values { hist[min(b - 1, Int((Double(v) - Double(lo)) * scale))] += 1 }
    let total = Double(values.count)
    let width = (Double(hi) - Double(lo)) / Double(b)
    var sumAll = 0.0
    for i in 0..<b { sumAll += Double(i) * hist[i] }
    var weightLow = 0.0
    var sumLow = 0.0
    var bestVariance = -1.0
    var bestCut = 0
    for i in 0..<(b - 1) {
      weightLow += hist[i]
      sumLow += Double(i) * hist[i]
      let weightHigh = total - weightLow
      if weightLow == 0 || weightHigh == 0 { continue }
      let meanLow = sumLow / weightLow
      let meanHigh = (sumAll - sumLow) / weightHigh
      let between = weightLow * weightHigh * (meanLow - meanHigh) * (meanLow - meanHigh)
      if between > bestVariance {
        bestVariance = between
        bestCut = i
      }
    }
    return Float(Double(lo) + Double(bestCut + 1) * width)
  }
}
