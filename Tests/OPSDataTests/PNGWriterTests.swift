import Foundation
import Testing
import TestSupport

@testable import OPSData

@Suite struct PNGWriterTests {
  /// Values from scripts/reference/sim_png_reference.py (Python's zlib 1.2.13):
  /// b'': crc32=0x00000000 adler32=0x00000001
  /// b'IEND': crc32=0xAE426082 adler32=0x02D70121
  /// b'Wikipedia': crc32=0xADAAC02E adler32=0x11E60398
  /// b'The quick brown fox jumps over the lazy dog': crc32=0x414FA339 adler32=0x5BDC0FDA
  /// bytes(range(256)) * 40: crc32=0xBBCE3B9D adler32=0xF475ED1E
  @Test func checksumsMatchZlib() {
    let cases: [([UInt8], UInt32, UInt32)] = [
      ([], 0x0000_0000, 0x0000_0001),
      (Array("IEND".utf8), 0xAE42_6082, 0x02D7_0121),
      (Array("Wikipedia".utf8), 0xADAA_C02E, 0x11E6_0398),
      (Array("The quick brown fox jumps over the lazy dog".utf8), 0x414F_A339, 0x5BDC_0FDA),
      ((0..<40).flatMap { _ in (0..<256).map { UInt8($0) } }, 0xBBCE_3B9D, 0xF475_ED1E),
    ]
    for (bytes, crc, adler) in cases {
      #expect(PNGWriter.crc32(bytes) == crc)
      #expect(PNGWriter.adler32(bytes) == adler)
    }
  }

  static func pattern(width: Int, height: Int, channels: Int) -> [UInt8] {
    var v = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0..<height {
      for x in 0..<width {
        for c in 0..<channels {
          // Smooth ramps, a repeated motif and some noise-like bytes.
          let noise = UInt8(truncatingIfNeeded: (x &* 7919 ^ y &* 104_729 ^ c &* 31) & 0x0F)
          v[(y * width + x) * channels + c] =
            UInt8(truncatingIfNeeded: x * 3 + y * (c + 1)) &+ noise
        }
      }
    }
    return v
  }

  @Test(arguments: [PNGCompression.stored, .deflate], [PNGImage.ColorType.grey, .rgb])
  func writesFilesThatDecodeToThePixels(compression: PNGCompression, type: PNGImage.ColorType)
    throws
  {
    let (w, h) = (37, 23)
    let pixels = Self.pattern(width: w, height: h, channels: type.bytesPerPixel)
    let image = try PNGImage(width: w, height: h, colorType: type, pixels: pixels)
    let file = PNGWriter.encode(image, compression: compression)
    #expect(Array(file.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    let chunks = try PNGTestReader.chunks(file)
    #expect(chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
    #expect(chunks.allSatisfy { $0.crcMatches })
    #expect(chunks[0].data == [0, 0, 0, 37, 0, 0, 0, 23, 8, type.rawValue, 0, 0, 0])
    let decoded = try PNGTestReader.decode(file)
    #expect(decoded.width == w && decoded.height == h && decoded.colorType == type.rawValue)
    #expect(decoded.pixels == pixels)
  }

  @Test func deflateCompressesRepetitiveImagesAndHandlesLongStreams() throws {
    // 300 × 300 RGB: over 65,535 bytes, so several stored blocks, and long matches for deflate.
    let (w, h) = (300, 300)
    var pixels = [UInt8](repeating: 0, count: w * h * 3)
    for i in pixels.indices { pixels[i] = UInt8((i / 3 % w) / 10 * 8 % 256) }
    let image = try PNGImage(width: w, height: h, colorType: .rgb, pixels: pixels)
    let stored = PNGWriter.encode(image, compression: .stored)
    let packed = PNGWriter.encode(image, compression: .deflate)
    #expect(stored.count > pixels.count)
    #expect(packed.count < pixels.count / 20)
    #expect(try PNGTestReader.decode(stored).pixels == pixels)
    #expect(try PNGTestReader.decode(packed).pixels == pixels)
  }

  @Test func zlibStreamsRoundTripEveryMatchLengthAndDistanceClass() throws {
    // Runs of many lengths at many distances, including the 258 maximum and far matches.
    var data: [UInt8] = []
    var state: UInt32 = 12345
    for block in 0..<60 {
      for _ in 0..<(block * 37 % 300 + 1) {
        state = state &* 1_103_515_245 &+ 12345
        data.append(UInt8(state >> 24))
      }
      let back = min(data.count, [1, 2, 5, 100, 1000, 5000, 20_000, 32_768][block % 8])
      let length = [3, 4, 10, 57, 130, 258, 300, 1][block % 8]
      for _ in 0..<length { data.append(data[data.count - back]) }
    }
    for compression in [PNGCompression.deflate, .stored] {
      let stream = PNGWriter.zlibCompress(data, compression: compression)
      #expect(try PNGTestReader.zlibDecompress(stream, capacity: data.count) == data)
      #expect(PNGWriter.adler32(data) == PNGTestReader.bigEndian(stream, stream.count - 4))
      #expect(try PNGTestReader.zlibDecompress(PNGWriter.zlibCompress([], compression: compression), capacity: 0) == [])
    }
    #expect(PNGWriter.zlibCompress(data, compression: .stored).count > data.count)
  }

  @Test func rejectsInconsistentImages() {
    #expect(throws: PNGError.self) {
      try PNGImage(width: 0, height: 3, colorType: .grey, pixels: [])
    }
    #expect(throws: PNGError.self) {
      try PNGImage(width: 2, height: 2, colorType: .rgb, pixels: [1, 2, 3])
    }
  }

  @Test func writesAtomicallyAndReportsUnwritablePaths() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "png-\(getpid())-\(#line)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let image = try PNGImage(
      width: 4, height: 2, colorType: .grey, pixels: Array(0..<8).map { UInt8($0 * 30) })
    let url = dir.appendingPathComponent("a.png")
    try PNGWriter.write(image, to: url)
    let bytes = try [UInt8](Data(contentsOf: url))
    #expect(try PNGTestReader.decode(bytes).pixels == image.pixels)
    // Only the final file is left behind.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["a.png"])
    let bad = dir.appendingPathComponent("missing-folder/b.png")
    let error = #expect(throws: PNGError.self) { try PNGWriter.write(image, to: bad) }
    #expect(error?.description.contains(bad.path) == true)
  }

  @Test func montageTintsStretchesAndLaysOutCrops() throws {
    // Three 2-channel 4×4 crops: channel 0 ramps, channel 1 is constant per crop.
    let (c, s) = (2, 4)
    var crops: [Float] = []
    for k in 0..<3 {
      crops += (0..<(s * s)).map { Float($0) }
      crops += [Float](repeating: Float(k * 50), count: s * s)
    }
    let colors = [ChannelColor(red: 1, green: 0, blue: 0), ChannelColor(red: 0, green: 0, blue: 1)]
    let stretch = [CropMontage.Stretch(low: 0, high: 15), CropMontage.Stretch(low: 0, high: 100)]
    let image = try CropMontage.compose(
      crops: crops, channels: c, height: s, width: s, columns: 2, colors: colors, stretch: stretch,
      scale: 2, gap: 1)
    // 2 columns × 8 px + 3 gaps; 2 rows × 8 px + 3 gaps.
    #expect(image.width == 19 && image.height == 19 && image.colorType == .rgb)
    func pixel(_ x: Int, _ y: Int) -> [UInt8] {
      Array(image.pixels[((y * image.width + x) * 3)..<((y * image.width + x) * 3 + 3)])
    }
    #expect(pixel(0, 0) == [48, 48, 48])  // gap
    #expect(pixel(1, 1) == [0, 0, 0])  // crop 0, value 0, blue 0
    #expect(pixel(8, 8) == [255, 0, 0])  // crop 0, last pixel (15) at full red
    #expect(pixel(10, 1) == [0, 0, 128])  // crop 1: blue 50 / 100
    #expect(pixel(1, 10) == [0, 0, 255])  // crop 2: blue 100 / 100
    #expect(pixel(10, 10) == [0, 0, 0])  // empty fourth tile
    // Percentile stretch: the default limits span the data.
    let limits = CropMontage.percentiles(
      crops: crops, channels: c, height: s, width: s, low: 0, high: 100)
    #expect(limits[0] == CropMontage.Stretch(low: 0, high: 15))
    #expect(limits[1] == CropMontage.Stretch(low: 0, high: 100))
    #expect(throws: PNGError.self) {
      try CropMontage.compose(
        crops: [Float](arrayLiteral: 1, 2, 3), channels: 2, height: 2, width: 2, columns: 1)
    }
  }
}
