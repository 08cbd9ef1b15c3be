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
  /// LZ77 with fixed Huffman codes, after per-row adaptive filtering: small for typical crops.
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

/// Writes 8-bit greyscale and RGB PNG files (ISO/IEC 15948), with its own zlib stream.
///
/// The encoder emits the signature, `IHDR` (bit depth 8, no interlace), one `IDAT` holding a zlib
/// stream (RFC 1950: header 0x78 0x01, deflate data, Adler-32), and `IEND`, each chunk with its
/// CRC-32. Deflate (RFC 1951) is either stored blocks or one block of fixed Huffman codes with
/// greedy LZ77 matching over a 32 KiB window.
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
  static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
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

  // MARK: - Checksums

  /// The CRC-32 table of the polynomial 0xEDB88320 (PNG, zlib, gzip).
  static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  /// CRC-32 of `bytes` (as PNG chunks use it).
  public static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
  }

  /// Adler-32 of `bytes` (the zlib stream checksum).
  public static func adler32(_ bytes: [UInt8]) -> UInt32 {
    var a: UInt32 = 1
    var b: UInt32 = 0
    var i = 0
    while i < bytes.count {
      // 5552 is the largest run before the sums can overflow 32 bits.
      let end = min(bytes.count, i + 5552)
      while i < end {
        a &+= UInt32(bytes[i])
        b &+= a
        i += 1
      }
      a %= 65521
      b %= 65521
    }
    return (b << 16) | a
  }

  // MARK: - zlib / deflate

  /// A zlib stream (RFC 1950) of `data`.
  public static func zlibCompress(_ data: [UInt8], compression: PNGCompression) -> [UInt8] {
    var out: [UInt8] = [0x78, 0x01]  // deflate, 32 KiB window, no dictionary; 0x7801 % 31 == 0
    switch compression {
    case .stored: out += deflateStored(data)
    case .deflate: out += deflateFixed(data)
    }
    appendBigEndian(&out, adler32(data))
    return out
  }

  /// Stored deflate blocks of at most 65,535 bytes.
  static func deflateStored(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    repeat {
      let n = min(65_535, data.count - i)
      let final: UInt8 = i + n == data.count ? 1 : 0
      out.append(final)  // BFINAL, BTYPE = 00, then padding to the byte boundary
      out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
      out += data[i..<(i + n)]
      i += n
    } while i < data.count
    return out
  }

  /// One final deflate block with fixed Huffman codes and greedy hash-chain LZ77 matching.
  static func deflateFixed(_ data: [UInt8]) -> [UInt8] {
    var bits = BitWriter()
    bits.write(1, count: 1)  // BFINAL
    bits.write(1, count: 2)  // BTYPE = 01 (fixed Huffman)
    let n = data.count
    let window = 32_768
    let hashSize = 1 << 15
    var head = [Int](repeating: -1, count: hashSize)
    var prev = [Int](repeating: -1, count: window)
    @inline(__always) func hash(_ i: Int) -> Int {
      (Int(data[i]) << 10 ^ Int(data[i + 1]) << 5 ^ Int(data[i + 2])) & (hashSize - 1)
    }
    @inline(__always) func insert(_ i: Int) {
      guard i + 2 < n else { return }
      let h = hash(i)
      prev[i & (window - 1)] = head[h]
      head[h] = i
    }
    var i = 0
    while i < n {
      var bestLength = 0
      var bestDistance = 0
      if i + 2 < n {
        var candidate = head[hash(i)]
        var chain = 48
        let maxLength = min(258, n - i)
        while candidate >= 0 && i - candidate <= window && chain > 0 {
          var length = 0
          while length < maxLength && data[candidate + length] == data[i + length] { length += 1 }
          if length > bestLength {
            bestLength = length
            bestDistance = i - candidate
            if length == maxLength { break }
          }
          let next = prev[candidate & (window - 1)]
          if next >= candidate { break }
          candidate = next
          chain -= 1
        }
      }
      if bestLength >= 3 {
        bits.writeLength(bestLength)
        bits.writeDistance(bestDistance)
        for k in 0..<bestLength { insert(i + k) }
        i += bestLength
      } else {
        bits.writeLiteral(Int(data[i]))
        insert(i)
        i += 1
      }
    }
    bits.writeLiteral(256)  // end of block
    return bits.finish()
  }
}

/// Packs deflate's bit stream: values LSB-first, Huffman codes MSB-first.
struct BitWriter {
  private(set) var bytes: [UInt8] = []
  private var buffer: UInt64 = 0
  private var filled = 0

  /// Appends the low `count` bits of `value`, least significant first.
  mutating func write(_ value: Int, count: Int) {
    buffer |= UInt64(value & ((1 << count) - 1)) << UInt64(filled)
    filled += count
    while filled >= 8 {
      bytes.append(UInt8(buffer & 0xFF))
      buffer >>= 8
      filled -= 8
    }
  }

  /// Appends a Huffman code of `count` bits, most significant bit first.
  mutating func writeCode(_ code: Int, count: Int) {
    var reversed = 0
    for k in 0..<count where (code >> k) & 1 == 1 { reversed |= 1 << (count - 1 - k) }
    write(reversed, count: count)
  }

  /// Appends the fixed Huffman code of literal/length symbol `symbol` (0…287).
  mutating func writeLiteral(_ symbol: Int) {
    switch symbol {
    case 0...143: writeCode(0x30 + symbol, count: 8)
    case 144...255: writeCode(0x190 + symbol - 144, count: 9)
    case 256...279: writeCode(symbol - 256, count: 7)
    default: writeCode(0xC0 + symbol - 280, count: 8)
    }
  }

  static let lengthBase = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
  ]
  static let lengthExtra = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  static let distanceBase = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
  ]
  static let distanceExtra = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
  ]

  /// Appends a match length (3…258): its symbol 257…285 and extra bits.
  mutating func writeLength(_ length: Int) {
    var k = Self.lengthBase.count - 1
    while Self.lengthBase[k] > length { k -= 1 }
    writeLiteral(257 + k)
    if Self.lengthExtra[k] > 0 { write(length - Self.lengthBase[k], count: Self.lengthExtra[k]) }
  }

  /// Appends a match distance (1…32768): its 5-bit fixed code and extra bits.
  mutating func writeDistance(_ distance: Int) {
    var k = Self.distanceBase.count - 1
    while Self.distanceBase[k] > distance { k -= 1 }
    writeCode(k, count: 5)
    if Self.distanceExtra[k] > 0 {
      write(distance - Self.distanceBase[k], count: Self.distanceExtra[k])
    }
  }

  /// Flushes the last partial byte and returns the stream.
  mutating func finish() -> [UInt8] {
    if filled > 0 {
      bytes.append(UInt8(buffer & 0xFF))
      buffer = 0
      filled = 0
    }
    return bytes
  }
}
