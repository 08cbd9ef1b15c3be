import CZlib
import Dispatch
import Foundation
import GrapeSupport

/// An 8-bit image to be written as PNG: greyscale or RGB, row-major, no padding.
public struct PNGImage: Sendable, Equatable {
  /// The PNG colour types this writer supports.
  public enum ColorType: UInt8, Sendable {
    /// One byte per pixel.
    case grey = 0
    /// Three bytes per pixel: red, green, blue.
    case rgb = 2

    /// Bytes per pixel.
    public var bytesPerPixel: Int { self == .grey ? 1 : 3 }
  }

  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// Greyscale or RGB.
  public let colorType: ColorType
  /// Pixel bytes, `height × width × bytesPerPixel`, row-major.
  public let pixels: [UInt8]

  /// An image over `pixels`.
  ///
  /// - Throws: `PNGError.invalidImage` when a side is not in 1…2³¹ − 1 or the pixel count does
  ///   not match.
  public init(width: Int, height: Int, colorType: ColorType, pixels: [UInt8]) throws(PNGError) {
    guard width >= 1, height >= 1, width <= Int(Int32.max), height <= Int(Int32.max) else {
      throw .invalidImage(reason: "width and height must be positive, got \(width) × \(height)")
    }
    let expected = width * height * colorType.bytesPerPixel
    guard pixels.count == expected else {
      throw .invalidImage(
        reason: "\(width) × \(height) \(colorType) needs \(expected) bytes, got \(pixels.count)")
    }
    self.width = width
    self.height = height
    self.colorType = colorType
    self.pixels = pixels
  }
}

/// How the PNG's image data is compressed.
public enum PNGCompression: Sendable {
  /// Stored (uncompressed) deflate blocks: fastest, largest.
  case stored
  /// zlib at its default level, after per-row adaptive filtering: small for typical crops.
  case deflate
}

/// What can go wrong writing a PNG.
public enum PNGError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The image's size or pixel buffer is inconsistent.
  case invalidImage(reason: String)
  /// The file could not be written.
  case io(path: String, reason: String)

  /// A one-line message naming the file at fault.
  public var description: String {
    switch self {
    case .invalidImage(let reason): return "PNG: invalid image: \(reason)"
    case .io(let path, let reason): return "\(path): cannot write PNG: \(reason)"
    }
  }
}

/// Writes 8-bit greyscale and RGB PNG files (ISO/IEC 15948).
///
/// The encoder emits the signature, `IHDR` (bit depth 8, no interlace), one `IDAT` holding a zlib
/// stream (RFC 1950, written by zlib: stored blocks or its default level), and `IEND`, each chunk
/// with its CRC-32 (zlib's).
public enum PNGWriter {
  /// The eight-byte PNG signature.
  public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  /// The complete PNG file for `image`.
  public static func encode(_ image: PNGImage, compression: PNGCompression = .deflate) -> [UInt8] {
    var out = signature
    var header: [UInt8] = []
    appendBigEndian(&header, UInt32(image.width))
    appendBigEndian(&header, UInt32(image.height))
    header += [8, image.colorType.rawValue, 0, 0, 0]
    appendChunk(&out, "IHDR", header)
    let raw: [UInt8]
    switch compression {
    case .stored: raw = filterRows(image, adaptive: false)
    case .deflate: raw = filterRows(image, adaptive: true)
    }
    appendChunk(&out, "IDAT", zlibCompress(raw, compression: compression))
    appendChunk(&out, "IEND", [])
    return out
  }

  /// Writes `image` to `url` through a temporary file in the same folder, renamed at the end.
  ///
  /// - Throws: `PNGError.io` naming the path when the file cannot be written.
  public static func write(
    _ image: PNGImage, to url: URL, compression: PNGCompression = .deflate
  ) throws(PNGError) {
    let bytes = Data(encode(image, compression: compression))
    do { try AtomicFile.write(bytes, to: url.path) } catch {
      throw .io(path: url.path, reason: error.reason)
    }
  }

  // MARK: - PNG rows

  /// Prefixes each row with its filter type byte: 0 (none), or the one of the five filters that
  /// minimises the sum of absolute filtered values (the usual heuristic).
  static func filterRows(_ image: PNGImage, adaptive: Bool) -> [UInt8] {
    let bpp = image.colorType.bytesPerPixel
    let stride = image.width * bpp
    var out: [UInt8] = []
    out.reserveCapacity((stride + 1) * image.height)
    let zero = [UInt8](repeating: 0, count: stride)
    var candidate = [UInt8](repeating: 0, count: stride)
    var best = [UInt8](repeating: 0, count: stride)
    image.pixels.withUnsafeBufferPointer { px in
      for y in 0..<image.height {
        let row = Array(px[(y * stride)..<((y + 1) * stride)])
        let up = y > 0 ? Array(px[((y - 1) * stride)..<(y * stride)]) : zero
        if !adaptive {
          out.append(0)
          out += row
          continue
        }
        var bestType: UInt8 = 0
        var bestScore = Int.max
        for type: UInt8 in 0...4 {
          var score = 0
          for i in 0..<stride {
            let a = i >= bpp ? Int(row[i - bpp]) : 0
            let b = Int(up[i])
            let c = i >= bpp ? Int(up[i - bpp]) : 0
            let predictor: Int
            switch type {
            case 0: predictor = 0
            case 1: predictor = a
            case 2: predictor = b
            case 3: predictor = (a + b) / 2
            default: predictor = paeth(a, b, c)
            }
            let v = UInt8(truncatingIfNeeded: Int(row[i]) - predictor)
            candidate[i] = v
            score += v < 128 ? Int(v) : 256 - Int(v)
          }
          if score < bestScore {
            bestScore = score
            bestType = type
            swap(&best, &candidate)
          }
        }
        out.append(bestType)
        out += best
      }
    }
    return out
  }

  @inline(__always)
  public static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
    let p = a + b - c
    let pa = abs(p - a)
    let pb = abs(p - b)
    let pc = abs(p - c)
    if pa <= pb && pa <= pc { return a }
    return pb <= pc ? b : c
  }

  static func appendBigEndian(_ out: inout [UInt8], _ v: UInt32) {
    out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
  }

  static func appendChunk(_ out: inout [UInt8], _ type: String, _ data: [UInt8]) {
    appendBigEndian(&out, UInt32(data.count))
    let body = Array(type.utf8) + data
    out += body
    appendBigEndian(&out, crc32(body))
  }

  // MARK: - Checksums and compression (zlib)

  /// CRC-32 of `bytes` (as PNG chunks use it), by zlib.
  public static func crc32(_ bytes: [UInt8]) -> UInt32 {
    UInt32(CZlib.crc32(0, bytes, uInt(bytes.count)))
  }

  /// Adler-32 of `bytes` (the zlib stream checksum), by zlib.
  public static func adler32(_ bytes: [UInt8]) -> UInt32 {
    UInt32(CZlib.adler32(1, bytes, uInt(bytes.count)))
  }

  /// A zlib stream (RFC 1950) of `data`: stored blocks (level 0) or zlib's default level.
  public static func zlibCompress(_ data: [UInt8], compression: PNGCompression) -> [UInt8] {
    var length = compressBound(uLong(data.count))
    var out = [UInt8](repeating: 0, count: Int(length))
    let level = compression == .stored ? Z_NO_COMPRESSION : Z_DEFAULT_COMPRESSION
    let status = compress2(&out, &length, data, uLong(data.count), level)
    // compressBound makes Z_BUF_ERROR impossible; Z_MEM_ERROR means zlib could not allocate its
    // few hundred KiB of state, which no caller could recover from either.
    precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
    return Array(out.prefix(Int(length)))
  }
}
