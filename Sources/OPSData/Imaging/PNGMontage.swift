import Foundation

/// A display colour for one channel, components in 0…1.
public struct ChannelColor: Sendable, Equatable {
  /// Red component.
  public var red: Float
  /// Green component.
  public var green: Float
  /// Blue component.
  public var blue: Float

  /// A colour with the given components.
  public init(red: Float, green: Float, blue: Float) {
    self.red = red
    self.green = green
    self.blue = blue
  }

  /// Blue, for DNA.
  public static let blue = ChannelColor(red: 0.15, green: 0.45, blue: 1)
  /// Yellow, for DNA damage.
  public static let yellow = ChannelColor(red: 1, green: 0.85, blue: 0)
  /// Green, for microtubules.
  public static let green = ChannelColor(red: 0.1, green: 1, blue: 0.2)
  /// Magenta, for F-actin.
  public static let magenta = ChannelColor(red: 1, green: 0.1, blue: 0.75)
  /// White, for showing a single channel in grey.
  public static let white = ChannelColor(red: 1, green: 1, blue: 1)

  /// The colours of the simulator's channels (DNA, DNA damage, microtubules, F-actin), and a
  /// cycle of them for other channel counts.
  public static func defaults(channels: Int) -> [ChannelColor] {
    let palette = [blue, yellow, green, magenta]
    return (0..<channels).map { palette[$0 % palette.count] }
  }
}

/// Composes crops into a grid picture: each channel contrast-stretched and tinted, channels added.
///
/// Each channel `c` is mapped to `t = clamp((v − lo_c) / (hi_c − lo_c), 0, 1)`, where `lo_c`, `hi_c`
/// are percentiles of that channel over all crops of the grid (so differences between crops, for
/// example between batches, stay visible), then tinted with its colour; the tinted channels are
/// summed and clipped. Crops fill the grid row by row; tiles are separated by `gap` pixels of grey.
public enum CropMontage {
  /// Contrast limits of one channel.
  public struct Stretch: Sendable, Equatable {
    /// Value mapped to black.
    public var low: Float
    /// Value mapped to full colour.
    public var high: Float

    /// Limits `low` and `high`.
    public init(low: Float, high: Float) {
      self.low = low
      self.high = high
    }
  }

  /// Per-channel percentiles (`low`, `high` in 0…100) of `crops`, [N, C, H, W].
  ///
  /// At most about 200,000 values per channel are examined (an even subsample).
  public static func percentiles(
    crops: [Float], channels: Int, height: Int, width: Int, low: Double, high: Double
  ) -> [Stretch] {
    let area = height * width
    let stride = channels * area
    let n = stride > 0 ? crops.count / stride : 0
    return (0..<channels).map { c in
      let total = n * area
      guard total > 0 else { return Stretch(low: 0, high: 1) }
      let step = max(1, total / 200_000)
      var values: [Float] = []
      values.reserveCapacity(total / step + 1)
      var k = 0
      while k < total {
        let cell = k / area
        values.append(crops[cell * stride + c * area + k % area])
        k += step
      }
      values.sort()
      let lo = Float(linearQuantile(sorted: values, low / 100))
      var hi = Float(linearQuantile(sorted: values, high / 100))
      if hi <= lo { hi = lo + 1 }
      return Stretch(low: lo, high: hi)
    }
  }

  /// An RGB picture of `crops` ([N, C, H, W] row-major) laid out `columns` to a row.
  ///
  /// - Parameters:
  ///   - crops: the crops' values (float32 images, or UInt16 converted by the other overload).
  ///   - channels, height, width: the crop layout.
  ///   - columns: tiles per row (at least 1); rows = ⌈N / columns⌉, at least `rows`.
  ///   - rows: the least number of rows (empty tiles stay dark); 0 to fit the crops.
  ///   - colors: one colour per channel (default: `ChannelColor.defaults`); a black colour hides
  ///     a channel.
  ///   - stretch: contrast limits per channel; default: the 0.5th and 99.8th percentiles.
  ///   - scale: each crop pixel becomes a `scale × scale` block (nearest neighbour, 1…16).
  ///   - gap: grey pixels between tiles.
  /// - Throws: `PNGError.invalidImage` when the layout does not match the buffer or the picture
  ///   would be empty.
  public static func compose(
    crops: [Float], channels: Int, height: Int, width: Int, columns: Int, rows: Int = 0,
    colors: [ChannelColor]? = nil, stretch: [Stretch]? = nil, scale: Int = 1, gap: Int = 2
  ) throws(PNGError) -> PNGImage {
    guard channels >= 1, height >= 1, width >= 1, columns >= 1, (1...16).contains(scale), gap >= 0
    else {
      throw .invalidImage(
        reason: "montage needs channels, height, width, columns ≥ 1, scale 1…16 and gap ≥ 0")
    }
    let stride = channels * height * width
    guard crops.count % stride == 0 else {
      throw .invalidImage(
        reason:
          "\(crops.count) values are not a whole number of \(channels)×\(height)×\(width) crops")
    }
    let n = crops.count / stride
    let gridRows = max(rows, (n + columns - 1) / columns)
    guard gridRows >= 1 else { throw .invalidImage(reason: "montage has no crops and no rows") }
    let palette = colors ?? ChannelColor.defaults(channels: channels)
    guard palette.count == channels else {
      throw .invalidImage(reason: "\(palette.count) colours for \(channels) channels")
    }
    let limits =
      stretch
      ?? percentiles(
        crops: crops, channels: channels, height: height, width: width, low: 0.5, high: 99.8)
    guard limits.count == channels else {
      throw .invalidImage(reason: "\(limits.count) contrast limits for \(channels) channels")
    }
    let tileW = width * scale
    let tileH = height * scale
    let outW = columns * tileW + (columns + 1) * gap
    let outH = gridRows * tileH + (gridRows + 1) * gap
    var rgb = [UInt8](repeating: 48, count: outW * outH * 3)
    let area = height * width
    var tile = [Float](repeating: 0, count: area * 3)
    for cell in 0..<n {
      for i in tile.indices { tile[i] = 0 }
      for c in 0..<channels {
        let lo = limits[c].low
        let inv = 1 / (limits[c].high - lo)
        let color = palette[c]
        let base = cell * stride + c * area
        for i in 0..<area {
          let t = min(1, max(0, (crops[base + i] - lo) * inv))
          tile[i * 3] += t * color.red
          tile[i * 3 + 1] += t * color.green
          tile[i * 3 + 2] += t * color.blue
        }
      }
      let ox = gap + (cell % columns) * (tileW + gap)
      let oy = gap + (cell / columns) * (tileH + gap)
      for y in 0..<tileH {
        for x in 0..<tileW {
          let src = ((y / scale) * width + x / scale) * 3
          let dst = ((oy + y) * outW + ox + x) * 3
          for k in 0..<3 { rgb[dst + k] = UInt8(min(255, max(0, tile[src + k] * 255 + 0.5))) }
        }
      }
    }
    // Empty tiles are black, set apart from the grey gaps.
    for cell in n..<(gridRows * columns) {
      let ox = gap + (cell % columns) * (tileW + gap)
      let oy = gap + (cell / columns) * (tileH + gap)
      for y in 0..<tileH {
        for x in 0..<tileW {
          let dst = ((oy + y) * outW + ox + x) * 3
          rgb[dst] = 0
          rgb[dst + 1] = 0
          rgb[dst + 2] = 0
        }
      }
    }
    return try PNGImage(width: outW, height: outH, colorType: .rgb, pixels: rgb)
  }

  /// The UInt16 overload of `compose(crops:…)`.
  public static func compose(
    crops: [UInt16], channels: Int, height: Int, width: Int, columns: Int, rows: Int = 0,
    colors: [ChannelColor]? = nil, stretch: [Stretch]? = nil, scale: Int = 1, gap: Int = 2
  ) throws(PNGError) -> PNGImage {
    try compose(
      crops: crops.map { Float($0) }, channels: channels, height: height, width: width,
      columns: columns, rows: rows, colors: colors, stretch: stretch, scale: scale, gap: gap)
  }
}
