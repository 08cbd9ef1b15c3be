import CZlib
import Foundation

/// Encodes and decodes one-cell chunks exactly as HDF5's shuffle and deflate filters do, so that
/// cells can be compressed and decompressed on several threads outside the HDF5 library.
///
/// Stores written this way are ordinary HDF5: h5py and any HDF5 reader decode them through the
/// usual filter pipeline (`shuffle`, then `deflate`, as recorded on the dataset). The pipeline is
/// `[shuffle, deflate]`, `[deflate]`, `[shuffle]` or empty; bit `i` of a chunk's filter mask marks
/// filter `i` as skipped for that chunk.
struct CellChunkCodec: Sendable {
  /// Bytes per sample (2 for uint16, 4 for float32).
  let elementSize: Int
  /// Samples per cell.
  let elements: Int
  /// The deflate level (1–9), or `nil` when the pipeline has no deflate.
  let level: Int?
  /// Whether the pipeline starts with the byte shuffle.
  let shuffles: Bool

  /// A codec for cells of `elements` samples of `elementSize` bytes.
  init(elementSize: Int, elements: Int, level: Int?, shuffle: Bool? = nil) {
    self.elementSize = elementSize
    self.elements = elements
    self.level = level
    shuffles = shuffle ?? (level != nil)
  }

  /// The codec for a dataset's filter names, or `nil` for a pipeline it cannot reproduce.
  init?(elementSize: Int, elements: Int, filters: [String]) {
    switch filters {
    case []: self.init(elementSize: elementSize, elements: elements, level: nil, shuffle: false)
    case ["shuffle"]:
      self.init(elementSize: elementSize, elements: elements, level: nil, shuffle: true)
    case ["deflate"]:
      self.init(elementSize: elementSize, elements: elements, level: 1, shuffle: false)
    case ["shuffle", "deflate"]:
      self.init(elementSize: elementSize, elements: elements, level: 1, shuffle: true)
    default: return nil
    }
  }

  /// Raw bytes per cell.
  var rawBytes: Int { elementSize * elements }

  /// The shuffled, deflated bytes of one cell (`raw` holds `rawBytes` bytes).
  func encode(_ raw: UnsafeRawBufferPointer) throws -> [UInt8] {
    let shuffled = UnsafeMutableRawBufferPointer.allocate(byteCount: rawBytes, alignment: 16)
    defer { shuffled.deallocate() }
    if shuffles {
      shuffle(raw, into: shuffled)
    } else {
      shuffled.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<rawBytes]))
    }
    guard let level else { return Array(shuffled) }
    var capacity = compressBound(uLong(rawBytes))
    var out = [UInt8](repeating: 0, count: Int(capacity))
    let status = out.withUnsafeMutableBufferPointer { destination in
      compress2(
        destination.baseAddress, &capacity,
        shuffled.baseAddress?.assumingMemoryBound(to: Bytef.self), uLong(rawBytes), Int32(level))
    }
    guard status == Z_OK else {
      throw OPSDataError.io(path: "", message: "deflate failed with zlib status \(status)")
    }
    out.removeSubrange(Int(capacity)...)
    return out
  }

  /// Decodes a stored chunk (with its HDF5 filter mask) into `rawBytes` bytes at `destination`.
  ///
  /// Bit 0 of the mask set: not shuffled; bit 1 set: not deflated. Empty `stored` bytes (a chunk
  /// never written) decode to zeros.
  func decode(
    _ stored: [UInt8], filterMask: UInt32, into destination: UnsafeMutableRawBufferPointer
  ) -> Bool {
    if stored.isEmpty {
      destination.initializeMemory(as: UInt8.self, repeating: 0)
      return true
    }
    let deflateBit: UInt32 = shuffles ? 2 : 1
    let deflated = level != nil && filterMask & deflateBit == 0
    let shuffled = shuffles && filterMask & 1 == 0
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: rawBytes, alignment: 16)
    defer { scratch.deallocate() }
    let plain = shuffled ? scratch : destination
    if deflated {
      var length = uLong(rawBytes)
      let status = stored.withUnsafeBufferPointer { source in
        uncompress(
          plain.baseAddress?.assumingMemoryBound(to: Bytef.self), &length, source.baseAddress,
          uLong(stored.count))
      }
      guard status == Z_OK, Int(length) == rawBytes else { return false }
    } else {
      guard stored.count == rawBytes else { return false }
      stored.withUnsafeBytes { plain.copyMemory(from: $0) }
    }
    if shuffled { unshuffle(UnsafeRawBufferPointer(scratch), into: destination) }
    return true
  }

  /// HDF5's byte shuffle: byte `b` of element `i` goes to position `b × n + i`.
  func shuffle(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) {
    let n = elements
    for b in 0..<elementSize {
      for i in 0..<n { destination[b * n + i] = source[i * elementSize + b] }
    }
  }

  /// The inverse of ``shuffle(_:into:)``.
  func unshuffle(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer)
  {
    let n = elements
    for b in 0..<elementSize {
      for i in 0..<n { destination[i * elementSize + b] = source[b * n + i] }
    }
  }
}
