import Foundation

@testable import OPSData

/// A small PNG reader for tests: chunk parsing with CRC checks and an inflater for stored and
/// fixed-Huffman deflate blocks (the two kinds `PNGWriter` emits).
enum PNGTestReader {
  struct Chunk {
    let type: String
    let data: [UInt8]
    let crcMatches: Bool
  }

  enum Failure: Error, CustomStringConvertible {
    case malformed(String)
    var description: String {
      switch self {
      case .malformed(let s): return s
      }
    }
  }

  static func bigEndian(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
  }

  static func chunks(_ file: [UInt8]) throws -> [Chunk] {
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

  /// Reads LSB-first bits.
  struct Bits {
    let bytes: [UInt8]
    var position = 0  // in bits

    mutating func read(_ n: Int) throws -> Int {
      var v = 0
      for k in 0..<n {
        let byte = position >> 3
        guard byte < bytes.count else { throw Failure.malformed("deflate stream ends early") }
        v |= Int((bytes[byte] >> UInt8(position & 7)) & 1) << k
        position += 1
      }
      return v
    }

    /// Reads a Huffman code MSB-first, `n` bits.
    mutating func readCode(_ n: Int) throws -> Int {
      var v = 0
      for _ in 0..<n { v = (v << 1) | (try read(1)) }
      return v
    }
  }

  /// Decodes one fixed-Huffman literal/length symbol.
  static func fixedSymbol(_ bits: inout Bits) throws -> Int {
    var code = try bits.readCode(7)
    if code <= 0x17 { return 256 + code }
    code = (code << 1) | (try bits.read(1))
    if (0x30...0xBF).contains(code) { return code - 0x30 }
    if (0xC0...0xC7).contains(code) { return 280 + code - 0xC0 }
    code = (code << 1) | (try bits.read(1))
    if (0x190...0x1FF).contains(code) { return 144 + code - 0x190 }
    throw Failure.malformed("bad fixed Huffman code")
  }

  static func inflate(_ data: [UInt8]) throws -> [UInt8] {
    var bits = Bits(bytes: data)
    var out: [UInt8] = []
    var final = 0
    repeat {
      final = try bits.read(1)
      let type = try bits.read(2)
      switch type {
      case 0:
        bits.position = (bits.position + 7) & ~7
        let byte = bits.position >> 3
        guard byte + 4 <= data.count else { throw Failure.malformed("stored header") }
        let len = Int(data[byte]) | Int(data[byte + 1]) << 8
        let nlen = Int(data[byte + 2]) | Int(data[byte + 3]) << 8
        guard len == (~nlen & 0xFFFF) else { throw Failure.malformed("LEN/NLEN mismatch") }
        guard byte + 4 + len <= data.count else { throw Failure.malformed("stored block overruns") }
        out += data[(byte + 4)..<(byte + 4 + len)]
        bits.position = (byte + 4 + len) * 8
      case 1:
        while true {
          let symbol = try fixedSymbol(&bits)
          if symbol < 256 {
            out.append(UInt8(symbol))
          } else if symbol == 256 {
            break
          } else {
            let k = symbol - 257
            guard k < BitWriter.lengthBase.count else { throw Failure.malformed("length symbol") }
            let length = BitWriter.lengthBase[k] + (try bits.read(BitWriter.lengthExtra[k]))
            let d = try bits.readCode(5)
            guard d < BitWriter.distanceBase.count else { throw Failure.malformed("distance code") }
            let distance = BitWriter.distanceBase[d] + (try bits.read(BitWriter.distanceExtra[d]))
            guard distance <= out.count else { throw Failure.malformed("distance too far back") }
            for _ in 0..<length { out.append(out[out.count - distance]) }
          }
        }
      default:
        throw Failure.malformed("block type \(type) not expected")
      }
    } while final == 0
    return out
  }

  /// Decodes a PNG written by `PNGWriter` into its pixel bytes, undoing the row filters.
  static func decode(_ file: [UInt8]) throws -> (
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
    let raw = try inflate(Array(stream[2..<(stream.count - 4)]))
    guard PNGWriter.adler32(raw) == bigEndian(stream, stream.count - 4) else {
      throw Failure.malformed("Adler-32 mismatch")
    }
    let stride = width * bpp
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
