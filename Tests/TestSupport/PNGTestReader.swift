import Foundation

import CZlib
import OPSData

/// A small PNG reader for tests: chunk parsing with CRC checks, and zlib to decompress the image data.
public enum PNGTestReader {
  public struct Chunk {
    public let type: String
    public let data: [UInt8]
    public let crcMatches: Bool
  }

  public enum Failure: Error, CustomStringConvertible {
    case malformed(String)
    public var description: String {
      switch self {
      case .malformed(let s): return s
      }
    }
  }

  public static func bigEndian(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
  }

  public static func chunks(_ file: [UInt8]) throws -> [Chunk] {
    guard Array(file.prefix(8)) == PNGWriter.signature else { throw Failure.malformed("signature") }
    var out: [Chunk] = []
    var i = 8
    while i + 12 <= file.count {
      let length = Int(bigEndian(file, i))
      guard i + 12 + length <= file.count else { throw Failure.malformed("chunk overruns file") }
      let typeBytes = Array(file[(i + 4)..<(i + 8)])
      let data = Array(file[(i + 8)..<(i + 8 + length)])
      let crc = bigEndian(file, i + 8 + length)
      out.append(
        Chunk(
          type: String(decoding: typeBytes, as: UTF8.self), data: data,
          crcMatches: PNGWriter.crc32(typeBytes + data) == crc))
      i += 12 + length
    }
    guard i == file.count else { throw Failure.malformed("trailing bytes") }
    return out
  }

  /// The bytes of zlib stream `stream` (header, deflate data and Adler-32 checked by zlib),
  /// which must decompress to at most `capacity` bytes.
  public static func zlibDecompress(_ stream: [UInt8], capacity: Int) throws -> [UInt8] {
    var length = uLong(max(capacity, 1))
    var out = [UInt8](repeating: 0, count: Int(length))
    let status = uncompress(&out, &length, stream, uLong(stream.count))
    guard status == Z_OK else { throw Failure.malformed("zlib stream (status \(status))") }
    return Array(out.prefix(Int(length)))
  }

  /// Decodes a PNG written by `PNGWriter` into its pixel bytes, undoing the row filters.
  public static func decode(_ file: [UInt8]) throws -> (
    width: Int, height: Int, colorType: UInt8, pixels: [UInt8]
  ) {
    let list = try chunks(file)
    guard list.allSatisfy(\.crcMatches) else { throw Failure.malformed("CRC mismatch") }
    guard list.first?.type == "IHDR", list.last?.type == "IEND", let header = list.first?.data,
      header.count == 13
    else { throw Failure.malformed("chunk order") }
    let width = Int(bigEndian(header, 0))
    let height = Int(bigEndian(header, 4))
    guard header[8] == 8, header[10] == 0, header[11] == 0, header[12] == 0 else {
      throw Failure.malformed("unsupported header")
    }
    let bpp = header[9] == 2 ? 3 : 1
    let stream = list.filter { $0.type == "IDAT" }.flatMap(\.data)
    guard stream.count >= 6, (Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0, stream[0] & 0x0F == 8
    else { throw Failure.malformed("zlib header") }
    let stride = width * bpp
    let raw = try zlibDecompress(stream, capacity: height * (stride + 1))
    guard raw.count == height * (stride + 1) else { throw Failure.malformed("raw size") }
    var pixels = [UInt8](repeating: 0, count: height * stride)
    for y in 0..<height {
      let filter = raw[y * (stride + 1)]
      for i in 0..<stride {
        let v = Int(raw[y * (stride + 1) + 1 + i])
        let a = i >= bpp ? Int(pixels[y * stride + i - bpp]) : 0
        let b = y > 0 ? Int(pixels[(y - 1) * stride + i]) : 0
        let c = (i >= bpp && y > 0) ? Int(pixels[(y - 1) * stride + i - bpp]) : 0
        let predictor: Int
        switch filter {
        case 0: predictor = 0
        case 1: predictor = a
        case 2: predictor = b
        case 3: predictor = (a + b) / 2
        case 4: predictor = PNGWriter.paeth(a, b, c)
        default: throw Failure.malformed("filter \(filter)")
        }
        pixels[y * stride + i] = UInt8(truncatingIfNeeded: v + predictor)
      }
    }
    return (width, height, header[9], pixels)
  }
}
