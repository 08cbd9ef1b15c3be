import CTIFF
import Foundation

/// Reads TIFF files through libtiff: 8- and 16-bit unsigned and 32-bit float samples, one page per
/// channel or several samples per page (contiguous or planar), strips or tiles, and any compression
/// libtiff decodes.
///
/// Channels are numbered in file order: page 0's samples, then page 1's, and so on. Pages marked
/// as reduced-resolution (`NewSubfileType` bit 0, e.g. thumbnails and pyramid levels) are skipped.
public enum TIFFReader {
  /// The layout of one page.
  struct Page {
    let directory: Int
    let width: Int
    let height: Int
    let samples: Int
    let pixelType: PixelType
    let planar: Bool
    let tiled: Bool
    let compression: Int
  }

  /// Reads the layout of `path` without decoding pixels.
  ///
  /// - Throws: ``OPSDataError/fileNotFound(path:)``, ``OPSDataError/tiff(path:reason:)`` for
  ///   unreadable files, ``OPSDataError/unsupportedTIFF(path:reason:)`` for other sample types or
  ///   pages of different sizes.
  public static func info(_ path: String) throws -> TIFFInfo {
    let handle = try open(path)
    let pages = try scanPages(handle, path: path)
    return try summarize(pages, path: path)
  }

  /// Reads all channels of `path`.
  public static func read(_ path: String) throws -> TIFFImage {
    try read(path, channels: nil)
  }

  /// Reads the channels `channels` (file-order indices, in the order given; `nil` for all).
  ///
  /// Pages holding none of the requested channels are not decoded.
  public static func read(_ path: String, channels requested: [Int]?) throws -> TIFFImage {
    let handle = try open(path)
    let pages = try scanPages(handle, path: path)
    let info = try summarize(pages, path: path)
    let wanted = requested ?? Array(0..<info.channels)
    guard !wanted.isEmpty else {
      throw OPSDataError.invalidArgument(name: path, message: "no channels requested")
    }
    for c in wanted where c < 0 || c >= info.channels {
      throw OPSDataError.invalidArgument(
        name: path, message: "channel \(c) requested but the file has \(info.channels) channels")
    }
    // Map each file channel to (page, sample).
    var location: [(page: Int, sample: Int)] = []
    for (p, page) in pages.enumerated() {
      for s in 0..<page.samples { location.append((p, s)) }
    }
    let plane = info.width * info.height
    // A damaged or hostile header can claim any size: refuse what memory cannot hold before
    // allocating it.
    let sampleBytes = info.pixelType == .uint8 ? 1 : info.pixelType == .uint16 ? 2 : 4
    let claimed = Double(wanted.count) * Double(info.width) * Double(info.height)
    guard AllocationLimit.fits(count: claimed, size: sampleBytes) else {
      throw OPSDataError.tiff(
        path: path,
        reason: "the header claims \(info.width)×\(info.height) pixels × \(wanted.count) channels (\(AllocationLimit.gibibytes(claimed, size: sampleBytes)) decoded), more than this machine can hold")
    }
    switch info.pixelType {
    case .uint8:
      var out = [UInt8](repeating: 0, count: wanted.count * plane)
      try decode(handle, path: path, pages: pages, wanted: wanted, location: location, into: &out)
      return TIFFImage(
        width: info.width, height: info.height, channels: wanted.count, pixels: .uint8(out))
    case .uint16:
      var out = [UInt16](repeating: 0, count: wanted.count * plane)
      try decode(handle, path: path, pages: pages, wanted: wanted, location: location, into: &out)
      return TIFFImage(
        width: info.width, height: info.height, channels: wanted.count, pixels: .uint16(out))
    case .float32:
      var out = [Float](repeating: 0, count: wanted.count * plane)
      try decode(handle, path: path, pages: pages, wanted: wanted, location: location, into: &out)
      return TIFFImage(
        width: info.width, height: info.height, channels: wanted.count, pixels: .float32(out))
    }
  }

  // MARK: - Internals

  static func open(_ path: String) throws -> TIFFLibrary.Handle {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw OPSDataError.fileNotFound(path: path)
    }
    if isDirectory.boolValue {
      throw OPSDataError.tiff(path: path, reason: "is a directory, not a TIFF file")
    }
    let (handle, messages) = TIFFLibrary.open(path, mode: "r")
    guard let handle else {
      let detail = messages.summary
      throw OPSDataError.tiff(
        path: path,
        reason: detail.isEmpty ? "not a readable TIFF file" : "not a readable TIFF file (\(detail))"
      )
    }
    return handle
  }

  /// Walks every directory and records the layout of each full-resolution page.
  static func scanPages(_ handle: TIFFLibrary.Handle, path: String) throws -> [Page] {
    let tif = handle.tif
    var pages: [Page] = []
    var directory = 0
    guard TIFFSetDirectory(tif, 0) == 1 else {
      throw OPSDataError.tiff(
        path: path, reason: "cannot read the first directory (\(handle.messages.summary))")
    }
    repeat {
      let subfile = TIFFLibrary.uint32(tif, TIFFTAG_SUBFILETYPE) ?? 0
      if subfile & UInt32(FILETYPE_REDUCEDIMAGE) == 0 {
        pages.append(try describePage(tif, directory: directory, path: path))
      }
      directory += 1
      if directory > 100_000 {
        throw OPSDataError.tiff(path: path, reason: "too many directories (a loop?)")
      }
    } while TIFFReadDirectory(tif) == 1
    if !handle.messages.errors.isEmpty {
      throw OPSDataError.tiff(path: path, reason: "damaged directory (\(handle.messages.summary))")
    }
    guard !pages.isEmpty else {
      throw OPSDataError.tiff(path: path, reason: "no full-resolution image in the file")
    }
    return pages
  }

  private static func describePage(_ tif: OpaquePointer, directory: Int, path: String) throws
    -> Page
  {
    let width = Int(TIFFLibrary.uint32(tif, TIFFTAG_IMAGEWIDTH, defaulted: false) ?? 0)
    let height = Int(TIFFLibrary.uint32(tif, TIFFTAG_IMAGELENGTH, defaulted: false) ?? 0)
    guard width > 0, height > 0 else {
      throw OPSDataError.tiff(path: path, reason: "page \(directory) has no image size")
    }
    let bits = Int(TIFFLibrary.uint16(tif, TIFFTAG_BITSPERSAMPLE) ?? 1)
    let format = Int32(TIFFLibrary.uint16(tif, TIFFTAG_SAMPLEFORMAT) ?? UInt16(SAMPLEFORMAT_UINT))
    let samples = Int(TIFFLibrary.uint16(tif, TIFFTAG_SAMPLESPERPIXEL) ?? 1)
    let planar =
      Int32(TIFFLibrary.uint16(tif, TIFFTAG_PLANARCONFIG) ?? UInt16(PLANARCONFIG_CONTIG))
      == PLANARCONFIG_SEPARATE
    let compression = Int(TIFFLibrary.uint16(tif, TIFFTAG_COMPRESSION) ?? 1)
    let pixelType: PixelType
    switch (bits, format) {
    case (8, SAMPLEFORMAT_UINT): pixelType = .uint8
    case (16, SAMPLEFORMAT_UINT): pixelType = .uint16
    case (32, SAMPLEFORMAT_IEEEFP): pixelType = .float32
    default:
      let kind =
        format == SAMPLEFORMAT_INT
        ? "signed integer" : format == SAMPLEFORMAT_IEEEFP ? "float" : "unsigned integer"
      throw OPSDataError.unsupportedTIFF(
        path: path,
        reason:
          "page \(directory) has \(bits)-bit \(kind) samples (supported: 8- or 16-bit unsigned, 32-bit float)"
      )
    }
    guard samples >= 1 else {
      throw OPSDataError.tiff(path: path, reason: "page \(directory) has no samples")
    }
    if compression == Int(COMPRESSION_JPEG) || compression == Int(COMPRESSION_OJPEG) {
      let photometric = Int32(TIFFLibrary.uint16(tif, TIFFTAG_PHOTOMETRIC) ?? 0)
      if photometric == PHOTOMETRIC_YCBCR {
        throw OPSDataError.unsupportedTIFF(
          path: path, reason: "page \(directory) is YCbCr JPEG, not raw channel data")
      }
    }
    return Page(
      directory: directory, width: width, height: height, samples: samples, pixelType: pixelType,
      planar: planar && samples > 1, tiled: TIFFIsTiled(tif) != 0, compression: compression)
  }

  static func summarize(_ pages: [Page], path: String) throws -> TIFFInfo {
    guard let first = pages.first else { throw OPSDataError.tiff(path: path, reason: "no pages") }
    for page in pages.dropFirst() {
      if page.width != first.width || page.height != first.height {
        throw OPSDataError.unsupportedTIFF(
          path: path,
          reason:
            "page \(page.directory) is \(page.width)×\(page.height) but page \(first.directory) is \(first.width)×\(first.height)"
        )
      }
      if page.pixelType != first.pixelType {
        throw OPSDataError.unsupportedTIFF(
          path: path,
          reason:
            "page \(page.directory) holds \(page.pixelType.rawValue) but page \(first.directory) holds \(first.pixelType.rawValue)"
        )
      }
    }
    return TIFFInfo(
      width: first.width, height: first.height, channels: pages.reduce(0) { $0 + $1.samples },
      pixelType: first.pixelType, pages: pages.count, samplesPerPixel: first.samples,
      isPlanar: first.planar, isTiled: first.tiled, compression: first.compression)
  }

  /// Decodes the wanted channels into `out` (`[wanted.count, height, width]`).
  private static func decode<T: BinaryIntegerOrFloat>(
    _ handle: TIFFLibrary.Handle, path: String, pages: [Page], wanted: [Int],
    location: [(page: Int, sample: Int)], into out: inout [T]
  ) throws {
    let tif = handle.tif
    // Group the wanted output channels by page.
    var byPage: [Int: [(sample: Int, output: Int)]] = [:]
    for (output, channel) in wanted.enumerated() {
      byPage[location[channel].page, default: []].append((location[channel].sample, output))
    }
    for p in byPage.keys.sorted() {
      let page = pages[p]
      guard TIFFSetDirectory(tif, UInt32(page.directory)) == 1 else {
        throw OPSDataError.tiff(
          path: path, reason: "cannot read page \(page.directory) (\(handle.messages.summary))")
      }
      let targets = byPage[p] ?? []
      try out.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        if page.tiled {
          try readTiles(handle, path: path, page: page, targets: targets, out: base)
        } else {
          try readStrips(handle, path: path, page: page, targets: targets, out: base)
        }
      }
    }
  }

  /// Copies decoded samples of one block (a strip or tile) into the output planes.
  ///
  /// The block covers rows `y0..<y0+rows` and columns `x0..<x0+columns` of the page, with
  /// `blockWidth` pixels per block row; `interleaved` samples per pixel (1 for planar blocks).
  private static func scatter<T>(
    block: UnsafePointer<T>, blockWidth: Int, interleaved: Int,
    sampleOffsets: [(sample: Int, output: Int)],
    y0: Int, x0: Int, rows: Int, columns: Int, page: Page, out: UnsafeMutablePointer<T>
  ) {
    let plane = page.width * page.height
    for target in sampleOffsets {
      let destination = out + target.output * plane
      for r in 0..<rows {
        let source = block + (r * blockWidth) * interleaved + target.sample
        let row = destination + (y0 + r) * page.width + x0
        if interleaved == 1 {
          row.update(from: source, count: columns)
        } else {
          for c in 0..<columns { row[c] = source[c * interleaved] }
        }
      }
    }
  }

  private static func readStrips<T>(
    _ handle: TIFFLibrary.Handle, path: String, page: Page, targets: [(sample: Int, output: Int)],
    out: UnsafeMutablePointer<T>
  ) throws {
    let tif = handle.tif
    let rowsPerStrip = max(
      1, min(Int(TIFFLibrary.uint32(tif, TIFFTAG_ROWSPERSTRIP) ?? UInt32(page.height)), page.height)
    )
    let stripBytes = Int(TIFFStripSize(tif))
    guard stripBytes > 0 else {
      throw OPSDataError.tiff(path: path, reason: "page \(page.directory) has no strip data")
    }
    guard AllocationLimit.fits(count: Double(stripBytes), size: 1) else {
      throw OPSDataError.tiff(path: path, reason: "page \(page.directory) claims strips of \(stripBytes) bytes, more than this machine can hold")
    }
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: stripBytes, alignment: 16)
    defer { buffer.deallocate() }
    // Planar pages keep each sample in its own strips; contiguous pages interleave them.
    let planes: [(strip: Int, targets: [(sample: Int, output: Int)], interleaved: Int)] =
      page.planar
      ? Dictionary(grouping: targets, by: { $0.sample }).map { (sample, group) in
        (sample, group.map { (sample: 0, output: $0.output) }, 1)
      }
      : [(0, targets, page.samples)]
    for plane in planes {
      var y = 0
      while y < page.height {
        let strip = TIFFComputeStrip(tif, UInt32(y), UInt16(plane.strip))
        let rows = min(rowsPerStrip, page.height - y)
        let expected = rows * page.width * plane.interleaved * MemoryLayout<T>.stride
        let got = TIFFReadEncodedStrip(tif, strip, buffer, tmsize_t(stripBytes))
        if got < 0 || Int(got) < expected {
          let detail = handle.messages.summary
          throw OPSDataError.tiff(
            path: path,
            reason: "truncated or damaged data in page \(page.directory), strip \(strip)"
              + (detail.isEmpty ? "" : " (\(detail))"))
        }
        scatter(
          block: buffer.assumingMemoryBound(to: T.self), blockWidth: page.width,
          interleaved: plane.interleaved,
          sampleOffsets: plane.targets, y0: y, x0: 0, rows: rows, columns: page.width, page: page,
          out: out)
        y += rows
      }
    }
  }

  private static func readTiles<T>(
    _ handle: TIFFLibrary.Handle, path: String, page: Page, targets: [(sample: Int, output: Int)],
    out: UnsafeMutablePointer<T>
  ) throws {
    let tif = handle.tif
    let tileWidth = Int(TIFFLibrary.uint32(tif, TIFFTAG_TILEWIDTH) ?? 0)
    let tileHeight = Int(TIFFLibrary.uint32(tif, TIFFTAG_TILELENGTH) ?? 0)
    let tileBytes = Int(TIFFTileSize(tif))
    guard tileWidth > 0, tileHeight > 0, tileBytes > 0, AllocationLimit.fits(count: Double(tileBytes), size: 1) else {
      throw OPSDataError.tiff(path: path, reason: "page \(page.directory) has an invalid tile size (\(tileWidth)×\(tileHeight), \(tileBytes) bytes)")
    }
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: tileBytes, alignment: 16)
    defer { buffer.deallocate() }
    let planes: [(sample: Int, targets: [(sample: Int, output: Int)], interleaved: Int)] =
      page.planar
      ? Dictionary(grouping: targets, by: { $0.sample }).map { (sample, group) in
        (sample, group.map { (sample: 0, output: $0.output) }, 1)
      }
      : [(0, targets, page.samples)]
    for plane in planes {
      for y in stride(from: 0, to: page.height, by: tileHeight) {
        for x in stride(from: 0, to: page.width, by: tileWidth) {
          let tile = TIFFComputeTile(tif, UInt32(x), UInt32(y), 0, UInt16(plane.sample))
          let got = TIFFReadEncodedTile(tif, tile, buffer, tmsize_t(tileBytes))
          if got < 0
            || Int(got) < tileWidth * tileHeight * plane.interleaved * MemoryLayout<T>.stride
          {
            let detail = handle.messages.summary
            throw OPSDataError.tiff(
              path: path,
              reason: "truncated or damaged data in page \(page.directory), tile \(tile)"
                + (detail.isEmpty ? "" : " (\(detail))"))
          }
          scatter(
            block: buffer.assumingMemoryBound(to: T.self), blockWidth: tileWidth,
            interleaved: plane.interleaved,
            sampleOffsets: plane.targets, y0: y, x0: x, rows: min(tileHeight, page.height - y),
            columns: min(tileWidth, page.width - x), page: page, out: out)
        }
      }
    }
  }
}

/// The sample types the reader decodes into (`UInt8`, `UInt16`, `Float`).
protocol BinaryIntegerOrFloat {}
extension UInt8: BinaryIntegerOrFloat {}
extension UInt16: BinaryIntegerOrFloat {}
extension Float: BinaryIntegerOrFloat {}
