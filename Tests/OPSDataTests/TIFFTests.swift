import CTIFF
import Foundation
import TestSupport
import Testing

@testable import OPSData

/// Values of the fixtures written by `scripts/reference/opsdata_tiff_fixtures.py`.
private enum Expected {
  static let channels = 3, height = 21, width = 19
  static func index(_ c: Int, _ y: Int, _ x: Int) -> Int { (c * height + y) * width + x }
  static var uint16: [UInt16] {
    var v = [UInt16](repeating: 0, count: channels * height * width)
    for c in 0..<channels {
      for y in 0..<height {
        for x in 0..<width {
          v[index(c, y, x)] = UInt16(1000 * c + 37 * y + x + (c == 1 ? 60000 : 0))
        }
      }
    }
    return v
  }
  static var uint8: [UInt8] {
    var v = [UInt8](repeating: 0, count: channels * height * width)
    for c in 0..<channels {
      for y in 0..<height {
        for x in 0..<width {
          v[index(c, y, x)] = UInt8((50 * c + 7 * y + 3 * x) % 256)
        }
      }
    }
    return v
  }
  static var float32: [Float] {
    var v = [Float](repeating: 0, count: channels * height * width)
    for c in 0..<channels {
      for y in 0..<height {
        for x in 0..<width {
          v[index(c, y, x)] = Float(c) - 0.5 * Float(y) + 0.25 * Float(x)
        }
      }
    }
    return v
  }
}

/// A small test image whose samples are all different.
private func sampleImage(_ type: PixelType, channels: Int = 3, height: Int = 37, width: Int = 29)
  -> TIFFImage
{
  let n = channels * height * width
  let pixels: PixelBuffer
  switch type {
  case .uint8: pixels = .uint8((0..<n).map { UInt8(($0 * 7) % 251) })
  case .uint16: pixels = .uint16((0..<n).map { UInt16(($0 * 997) % 65521) })
  case .float32: pixels = .float32((0..<n).map { Float($0) * 0.37 - 100 })
  }
  return TIFFImage(width: width, height: height, channels: channels, pixels: pixels)
}

@Suite struct TIFFTests {
  @Test(arguments: [
    ("u16_pages.tif", 3, false, false),
    ("u16_contig_deflate_be.tif", 1, false, false),
    ("u16_planar_tiled.tif", 1, true, true),
    ("u16_bigtiff.tif", 3, false, false),
    ("u16_mixed_pages.tif", 2, false, false),
  ])
  func readsSixteenBitFixturesFromAnotherWriter(name: String, pages: Int, planar: Bool, tiled: Bool)
    throws
  {
    let path = Fixtures.path("tiff/" + name)
    let info = try TIFFReader.info(path)
    #expect(info.width == Expected.width && info.height == Expected.height && info.channels == 3)
    #expect(info.pixelType == .uint16)
    #expect(info.pages == pages && info.isPlanar == planar && info.isTiled == tiled)
    let image = try TIFFReader.read(path)
    #expect(image.pixels == .uint16(Expected.uint16))
    let subset = try TIFFReader.read(path, channels: [2, 0])
    #expect(subset.channels == 2)
    #expect(subset.channel(0) == image.channel(2))
    #expect(subset.channel(1) == image.channel(0))
  }

  @Test func readsEightBitAndFloatFixtures() throws {
    #expect(
      try TIFFReader.read(Fixtures.path("tiff/u8_contig_tiled.tif")).pixels
        == .uint8(Expected.uint8))
    #expect(
      try TIFFReader.read(Fixtures.path("tiff/f32_pages_deflate.tif")).pixels
        == .float32(Expected.float32))
    #expect(
      try TIFFReader.read(Fixtures.path("tiff/f32_planar.tif")).pixels == .float32(Expected.float32)
    )
    let info = try TIFFReader.info(Fixtures.path("tiff/u8_contig_tiled.tif"))
    #expect(info.compression == 5 && info.samplesPerPixel == 3 && !info.isPlanar)
  }

  @Test(arguments: [PixelType.uint8, .uint16, .float32])
  func writerRoundTripsEveryLayout(type: PixelType) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let image = sampleImage(type)
    let layouts: [TIFFWriteOptions] = [
      TIFFWriteOptions(),
      TIFFWriteOptions(layout: .pagePerChannel, compression: .deflate, predictor: true),
      TIFFWriteOptions(layout: .contiguous, compression: .lzw, rowsPerStrip: 5),
      TIFFWriteOptions(layout: .planar, compression: .packbits, rowsPerStrip: 1),
      TIFFWriteOptions(layout: .pagePerChannel, compression: .deflate, tileSize: 16),
      TIFFWriteOptions(layout: .contiguous, tileSize: 16),
      TIFFWriteOptions(layout: .planar, compression: .lzw, tileSize: 32, predictor: true),
    ]
    for (k, options) in layouts.enumerated() {
      let path = dir.path("\(k).tif")
      try TIFFWriter.write(image, to: path, options: options)
      let info = try TIFFReader.info(path)
      #expect(info.pages == (options.layout == .pagePerChannel ? 3 : 1), "\(options)")
      #expect(info.isTiled == (options.tileSize != nil))
      #expect(info.isPlanar == (options.layout == .planar))
      #expect(try TIFFReader.read(path) == image, "\(options)")
    }
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: dir.url.path).count == layouts.count)
  }

  /// A file written with libtiff directly (not through TIFFWriter): 16-bit, 2 samples interleaved,
  /// rows-per-strip 3, then a reduced-resolution thumbnail page that the reader must skip.
  @Test func readsFileWrittenWithLibtiffDirectly() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("direct.tif")
    let width = 10
    let height = 7
    guard let tif = TIFFOpen(path, "w") else {
      Issue.record("cannot create test file")
      return
    }
    func set(_ tag: Int32, _ value: UInt32) {
      _ = withVaList([value]) { TIFFVSetField(tif, UInt32(tag), $0) }
    }
    set(TIFFTAG_IMAGEWIDTH, UInt32(width))
    set(TIFFTAG_IMAGELENGTH, UInt32(height))
    set(TIFFTAG_BITSPERSAMPLE, 16)
    set(TIFFTAG_SAMPLESPERPIXEL, 2)
    set(TIFFTAG_PLANARCONFIG, UInt32(PLANARCONFIG_CONTIG))
    set(TIFFTAG_PHOTOMETRIC, UInt32(PHOTOMETRIC_MINISBLACK))
    set(TIFFTAG_ROWSPERSTRIP, 3)
    var extra: [UInt16] = [UInt16(EXTRASAMPLE_UNSPECIFIED)]
    _ = extra.withUnsafeMutableBufferPointer { p in
      guard let base = p.baseAddress else { return Int32(0) }
      return withVaList([Int32(1), base]) { TIFFVSetField(tif, UInt32(TIFFTAG_EXTRASAMPLES), $0) }
    }
    for y in 0..<height {
      var row = [UInt16](repeating: 0, count: width * 2)
      for x in 0..<width {
        row[2 * x] = UInt16(y * 100 + x)
        row[2 * x + 1] = UInt16(50_000 + y * 100 + x)
      }
      _ = row.withUnsafeMutableBytes { TIFFWriteScanline(tif, $0.baseAddress, UInt32(y), 0) }
    }
    _ = TIFFWriteDirectory(tif)
    set(TIFFTAG_SUBFILETYPE, UInt32(FILETYPE_REDUCEDIMAGE))
    set(TIFFTAG_IMAGEWIDTH, 2)
    set(TIFFTAG_IMAGELENGTH, 2)
    set(TIFFTAG_BITSPERSAMPLE, 8)
    set(TIFFTAG_SAMPLESPERPIXEL, 1)
    set(TIFFTAG_ROWSPERSTRIP, 2)
    var thumbnail: [UInt8] = [1, 2, 3, 4]
    _ = thumbnail.withUnsafeMutableBytes { TIFFWriteEncodedStrip(tif, 0, $0.baseAddress, 4) }
    TIFFClose(tif)

    let image = try TIFFReader.read(path)
    #expect(image.channels == 2 && image.width == width && image.height == height)
    guard case .uint16(let v) = image.pixels else {
      Issue.record("expected uint16")
      return
    }
    #expect(v[0 * 70 + 3 * 10 + 4] == 304)
    #expect(v[1 * 70 + 6 * 10 + 9] == 50_609)
    var expected: [UInt16] = []
    for c in 0..<2 {
      for y in 0..<height {
        for x in 0..<width { expected.append(UInt16(c * 50_000 + y * 100 + x)) }
      }
    }
    #expect(v == expected)
  }

  /// A header that claims more pixels than memory holds (found by `make fuzz`) is an error naming
  /// the file, not an allocation failure.
  @Test func hugeClaimedSizesAreRefused() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    // A little-endian TIFF: 200,000 × 200,000 16-bit pixels (80 GB) in one strip of 2 bytes.
    var bytes: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0]
    let entries: [(tag: UInt16, type: UInt16, value: UInt32)] = [
      (256, 4, 200_000), (257, 4, 200_000), (258, 3, 16), (259, 3, 1), (262, 3, 1), (273, 4, 128), (277, 3, 1),
      (278, 4, 200_000), (279, 4, 2), (284, 3, 1),
    ]
    func put(_ value: UInt32, _ width: Int) { for k in 0..<width { bytes.append(UInt8((value >> (8 * UInt32(k))) & 0xFF)) } }
    put(UInt32(entries.count), 2)
    for e in entries {
      put(UInt32(e.tag), 2)
      put(UInt32(e.type), 2)
      put(1, 4)
      put(e.value, 4)
    }
    put(0, 4)
    while bytes.count < 130 { bytes.append(0) }
    let path = dir.path("huge.tif")
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let e = #expect(throws: OPSDataError.self) { try TIFFReader.read(path) }
    #expect(e?.description.contains("the header claims 200000×200000 pixels") == true, "\(String(describing: e))")
  }

  @Test func errorsNameTheFile() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let missing = dir.path("missing.tif")
    #expect(throws: OPSDataError.fileNotFound(path: missing)) { try TIFFReader.read(missing) }

    let text = dir.path("text.tif")
    try "hello".write(toFile: text, atomically: true, encoding: .utf8)
    do {
      _ = try TIFFReader.read(text)
      Issue.record("expected an error")
    } catch let error as OPSDataError {
      #expect(error.description.hasPrefix("\(text): not a readable TIFF file"))
    }

    // Cut an uncompressed file in the middle of its pixel data.
    let whole = dir.path("whole.tif")
    try TIFFWriter.write(sampleImage(.uint16, channels: 1, height: 64, width: 64), to: whole)
    let data = try Data(contentsOf: URL(fileURLWithPath: whole))
    let truncated = dir.path("truncated.tif")
    try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: truncated))
    do {
      _ = try TIFFReader.read(truncated)
      Issue.record("expected an error")
    } catch let error as OPSDataError {
      #expect(error.description.hasPrefix(truncated))
      guard case .tiff = error else {
        Issue.record("expected a TIFF error, got \(error)")
        return
      }
    }

    do {
      _ = try TIFFReader.read(Fixtures.path("tiff/i16.tif"))
      Issue.record("expected an error")
    } catch let error as OPSDataError {
      #expect(
        error.description.contains("unsupported TIFF: page 0 has 16-bit signed integer samples"))
    }
    #expect(throws: OPSDataError.self) {
      try TIFFReader.read(Fixtures.path("tiff/u16_pages.tif"), channels: [3])
    }
    #expect(throws: OPSDataError.self) {
      try TIFFWriter.write(
        sampleImage(.uint8), to: dir.path("x.tif"), options: TIFFWriteOptions(tileSize: 20))
    }
    #expect(throws: OPSDataError.self) {
      try TIFFWriter.write(sampleImage(.uint8), to: dir.path("no/such/dir/x.tif"))
    }
  }

  @Test func pagesOfDifferentSizesAreRejected() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("mixed.tif")
    let tif = try #require(TIFFOpen(path, "w"), "libtiff cannot create \(path)")
    func set(_ tag: Int32, _ value: UInt32) {
      _ = withVaList([value]) { TIFFVSetField(tif, UInt32(tag), $0) }
    }
    for size in [4, 5] {
      set(TIFFTAG_IMAGEWIDTH, UInt32(size))
      set(TIFFTAG_IMAGELENGTH, UInt32(size))
      set(TIFFTAG_BITSPERSAMPLE, 8)
      set(TIFFTAG_SAMPLESPERPIXEL, 1)
      set(TIFFTAG_ROWSPERSTRIP, UInt32(size))
      set(TIFFTAG_PHOTOMETRIC, UInt32(PHOTOMETRIC_MINISBLACK))
      var pixels = [UInt8](repeating: 7, count: size * size)
      _ = pixels.withUnsafeMutableBytes {
        TIFFWriteEncodedStrip(tif, 0, $0.baseAddress, tmsize_t(size * size))
      }
      _ = TIFFWriteDirectory(tif)
    }
    TIFFClose(tif)
    do {
      _ = try TIFFReader.info(path)
      Issue.record("expected an error")
    } catch let error as OPSDataError {
      #expect(error.description == "\(path): unsupported TIFF: page 1 is 5×5 but page 0 is 4×4")
    }
  }
}
