/// A multi-channel image as read from or written to a TIFF file.
///
/// Samples are stored channel-major: `[channels, height, width]`, row-major within a channel.
/// Channels are numbered in file order: the samples of page 0, then those of page 1, and so on.
public struct TIFFImage: Sendable, Equatable {
  /// Image width in pixels.
  public let width: Int
  /// Image height in pixels.
  public let height: Int
  /// Number of channels.
  public let channels: Int
  /// The samples, `[channels, height, width]`.
  public let pixels: PixelBuffer

  /// An image from its samples.
  ///
  /// - Precondition: `pixels.count == channels * height * width`.
  public init(width: Int, height: Int, channels: Int, pixels: PixelBuffer) {
    precondition(width > 0 && height > 0 && channels > 0, "TIFFImage: sizes must be positive")
    precondition(
      pixels.count == width * height * channels,
      "TIFFImage: \(pixels.count) samples for \(channels)×\(height)×\(width)")
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }

  /// The sample type.
  public var pixelType: PixelType { pixels.pixelType }

  /// The samples of one channel, `[height, width]`.
  public func channel(_ c: Int) -> PixelBuffer {
    let plane = width * height
    return pixels.slice((c * plane)..<((c + 1) * plane))
  }
}

/// The layout of a TIFF file, read from its directories without decoding pixels.
public struct TIFFInfo: Sendable, Equatable {
  /// Image width in pixels (the same on every page).
  public let width: Int
  /// Image height in pixels.
  public let height: Int
  /// Number of channels: the sum of samples per pixel over the pages.
  public let channels: Int
  /// The sample type.
  public let pixelType: PixelType
  /// The number of full-resolution pages (reduced-resolution pages are skipped).
  public let pages: Int
  /// Samples per pixel on each page.
  public let samplesPerPixel: Int
  /// Whether samples of a page are stored in separate planes (`PlanarConfiguration` 2).
  public let isPlanar: Bool
  /// Whether pages are stored in tiles rather than strips.
  public let isTiled: Bool
  /// The TIFF compression code of the first page (1: none, 5: LZW, 8: deflate, ...).
  public let compression: Int
}
