import CTIFF
import Foundation
import GrapeSupport

/// How ``TIFFWriter`` lays out and compresses an image.
public struct TIFFWriteOptions: Sendable, Equatable {
  /// Where the channels go.
  public enum Layout: String, Sendable {
    /// One page per channel (the usual microscopy layout).
    case pagePerChannel
    /// One page whose pixels interleave all channels (`PlanarConfiguration` 1).
    case contiguous
    /// One page with one plane per channel (`PlanarConfiguration` 2).
    case planar
  }

  /// Compression schemes libtiff writes.
  public enum Compression: String, Sendable {
    /// Uncompressed.
    case none
    /// LZW.
    case lzw
    /// Deflate (zip).
    case deflate
    /// PackBits run-length encoding.
    case packbits

    var code: UInt32 {
      switch self {
      case .none: return UInt32(COMPRESSION_NONE)
      case .lzw: return UInt32(COMPRESSION_LZW)
      case .deflate: return UInt32(COMPRESSION_ADOBE_DEFLATE)
      case .packbits: return UInt32(COMPRESSION_PACKBITS)
      }
    }
  }

  /// Channel layout.
  public var layout: Layout
  /// Compression scheme.
  public var compression: Compression
  /// Tile edge in pixels (a multiple of 16), or `nil` for strips.
  public var tileSize: Int?
  /// Rows per strip when not tiled; `nil` picks about 8 KiB per strip.
  public var rowsPerStrip: Int?
  /// Whether to apply horizontal differencing before LZW or deflate (predictor 2, or 3 for floats).
  public var predictor: Bool

  /// Options with the given fields; the defaults write one uncompressed page per channel in strips.
  public init(
    layout: Layout = .pagePerChannel, compression: Compression = .none, tileSize: Int? = nil,
    rowsPerStrip: Int? = nil, predictor: Bool = false
  ) {
    self.layout = layout
    self.compression = compression
    self.tileSize = tileSize
    self.rowsPerStrip = rowsPerStrip
    self.predictor = predictor
  }
}

/// Writes TIFF files through libtiff: 8- and 16-bit unsigned or 32-bit float samples, in the layouts
/// of ``TIFFWriteOptions``. Files are written under a temporary name and renamed when complete.
public enum TIFFWriter {
  /// Writes `image` to `path`.
  ///
  /// - Throws: ``OPSDataError/invalidArgument(name:message:)`` for bad options,
  ///   ``OPSDataError/tiff(path:reason:)`` when libtiff fails.
  public static func write(
    _ image: TIFFImage, to path: String, options: TIFFWriteOptions = TIFFWriteOptions()
  ) throws {
    if let tile = options.tileSize, tile <= 0 || tile % 16 != 0 {
      throw OPSDataError.invalidArgument(
        name: "tileSize", message: "\(tile) is not a positive multiple of 16")
    }
    let temporary: String
    do { temporary = try AtomicFile.temporaryPath(beside: path) } catch {
      throw OPSDataError.io(path: path, message: error.reason)
    }
    let (opened, messages) = TIFFLibrary.open(
      temporary,
      mode: image.width * image.height * image.channels * image.pixelType.byteSize > 3_500_000_000
        ? "w8" : "w")
    guard let handle = opened else {
      throw OPSDataError.tiff(path: path, reason: "cannot create (\(messages.summary))")
    }
    var committed = false
    defer { if !committed { _ = unlink(temporary) } }
    do {
      switch image.pixels {
      case .uint8(let v): try v.withUnsafeBytes { try writePages(handle, image, $0, options, path) }
      case .uint16(let v):
        try v.withUnsafeBytes { try writePages(handle, image, $0, options, path) }
      case .float32(let v):
        try v.withUnsafeBytes { try writePages(handle, image, $0, options, path) }
      }
    }
    guard handle.close() else {
      throw OPSDataError.tiff(path: path, reason: "cannot finish writing (\(messages.summary))")
    }
    committed = true
    do { try AtomicFile.moveIntoPlace(temporary, as: path) } catch {
      throw OPSDataError.io(path: path, message: error.reason)
    }
  }

  private static func writePages(
    _ handle: TIFFLibrary.Handle, _ image: TIFFImage, _ samples: UnsafeRawBufferPointer,
    _ options: TIFFWriteOptions, _ path: String
  ) throws {
    let size = image.pixelType.byteSize
    let plane = image.width * image.height
    switch options.layout {
    case .pagePerChannel:
      for c in 0..<image.channels {
        let data = UnsafeRawBufferPointer(
          rebasing: samples[(c * plane * size)..<((c + 1) * plane * size)])
        try writePage(
          handle, image, planes: [data], interleaved: 1, planar: false, page: c, of: image.channels,
          options, path)
      }
    case .planar:
      let planes = (0..<image.channels).map {
        UnsafeRawBufferPointer(rebasing: samples[($0 * plane * size)..<(($0 + 1) * plane * size)])
      }
      try writePage(
        handle, image, planes: planes, interleaved: 1, planar: true, page: 0, of: 1, options, path)
    case .contiguous:
      // Interleave [C, H, W] into [H, W, C].
      let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: samples.count, alignment: 16)
      defer { bytes.deallocate() }
      for c in 0..<image.channels {
        for p in 0..<plane {
          let from = (c * plane + p) * size
          let to = (p * image.channels + c) * size
          for b in 0..<size { bytes[to + b] = samples[from + b] }
        }
      }
      try writePage(
        handle, image, planes: [UnsafeRawBufferPointer(bytes)], interleaved: image.channels,
        planar: false,
        page: 0, of: 1, options, path)
    }
  }

  /// Writes one directory holding `planes` (one plane, or one per sample when `planar`).
  private static func writePage(
    _ handle: TIFFLibrary.Handle, _ image: TIFFImage, planes: [UnsafeRawBufferPointer],
    interleaved: Int,
    planar: Bool, page: Int, of pageCount: Int, _ options: TIFFWriteOptions, _ path: String
  ) throws {
    let tif = handle.tif
    let samplesPerPixel = planar ? planes.count : interleaved
    let size = image.pixelType.byteSize
    func fail(_ what: String) -> OPSDataError {
      OPSDataError.tiff(
        path: path, reason: "cannot write page \(page): \(what) (\(handle.messages.summary))")
    }
    var ok = true
    ok = ok && TIFFLibrary.set(tif, TIFFTAG_IMAGEWIDTH, UInt32(image.width))
    ok = ok && TIFFLibrary.set(tif, TIFFTAG_IMAGELENGTH, UInt32(image.height))
    ok = ok && TIFFLibrary.set(tif, TIFFTAG_BITSPERSAMPLE, UInt32(size * 8))
    ok = ok && TIFFLibrary.set(tif, TIFFTAG_SAMPLESPERPIXEL, UInt32(samplesPerPixel))
    ok =
      ok
      && TIFFLibrary.set(
        tif, TIFFTAG_SAMPLEFORMAT,
        UInt32(image.pixelType == .float32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT))
    ok = ok && TIFFLibrary.set(tif, TIFFTAG_PHOTOMETRIC, UInt32(PHOTOMETRIC_MINISBLACK))
    ok =
      ok
      && TIFFLibrary.set(
        tif, TIFFTAG_PLANARCONFIG, UInt32(planar ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG))
    ok = ok && TIFFLibrary.set(tif, TIFFTAG_COMPRESSION, options.compression.code)
    if samplesPerPixel > 1 {
      ok = ok && TIFFLibrary.setExtraSamples(tif, count: samplesPerPixel - 1)
    }
    if pageCount > 1 {
      ok = ok && TIFFLibrary.set(tif, TIFFTAG_SUBFILETYPE, UInt32(FILETYPE_PAGE))
      ok =
        ok
        && withVaList([Int32(page), Int32(pageCount)]) {
          TIFFVSetField(tif, UInt32(TIFFTAG_PAGENUMBER), $0)
        } == 1
    }
    if options.predictor && (options.compression == .lzw || options.compression == .deflate) {
      ok =
        ok
        && TIFFLibrary.set(
          tif, TIFFTAG_PREDICTOR,
          UInt32(image.pixelType == .float32 ? PREDICTOR_FLOATINGPOINT : PREDICTOR_HORIZONTAL))
    }
    guard ok else { throw fail("tags rejected") }

    let pixelBytes = interleaved * size  // bytes per pixel within one plane buffer
    let rowBytes = image.width * pixelBytes
    if let tile = options.tileSize {
      guard TIFFLibrary.set(tif, TIFFTAG_TILEWIDTH, UInt32(tile)),
        TIFFLibrary.set(tif, TIFFTAG_TILELENGTH, UInt32(tile))
      else {
        throw fail("tile size rejected")
      }
      let tileBytes = tile * tile * pixelBytes
      let buffer = UnsafeMutableRawPointer.allocate(byteCount: tileBytes, alignment: 16)
      defer { buffer.deallocate() }
      for (s, data) in planes.enumerated() {
        guard let base = data.baseAddress else { continue }
        for y in stride(from: 0, to: image.height, by: tile) {
          for x in stride(from: 0, to: image.width, by: tile) {
            buffer.initializeMemory(as: UInt8.self, repeating: 0, count: tileBytes)
            let rows = min(tile, image.height - y)
            let columns = min(tile, image.width - x)
            for r in 0..<rows {
              (buffer + r * tile * pixelBytes).copyMemory(
                from: base + (y + r) * rowBytes + x * pixelBytes, byteCount: columns * pixelBytes)
            }
            let index = TIFFComputeTile(tif, UInt32(x), UInt32(y), 0, UInt16(s))
            if TIFFWriteEncodedTile(tif, index, buffer, tmsize_t(tileBytes)) < 0 {
              throw fail("tile \(index)")
            }
          }
        }
      }
    } else {
      let rowsPerStrip = max(
        1, min(image.height, options.rowsPerStrip ?? max(1, 8192 / max(rowBytes, 1))))
      guard TIFFLibrary.set(tif, TIFFTAG_ROWSPERSTRIP, UInt32(rowsPerStrip)) else {
        throw fail("rows per strip rejected")
      }
      // libtiff may modify the buffer it encodes (predictor, byte order), so strips are copied.
      let buffer = UnsafeMutableRawPointer.allocate(
        byteCount: rowsPerStrip * rowBytes, alignment: 16)
      defer { buffer.deallocate() }
      for (s, data) in planes.enumerated() {
        guard let base = data.baseAddress else { continue }
        var y = 0
        while y < image.height {
          let rows = min(rowsPerStrip, image.height - y)
          let strip = TIFFComputeStrip(tif, UInt32(y), UInt16(s))
          buffer.copyMemory(from: base + y * rowBytes, byteCount: rows * rowBytes)
          if TIFFWriteEncodedStrip(tif, strip, buffer, tmsize_t(rows * rowBytes)) < 0 {
            throw fail("strip \(strip)")
          }
          y += rows
        }
      }
    }
    guard TIFFWriteDirectory(tif) == 1 else { throw fail("directory") }
  }
}
