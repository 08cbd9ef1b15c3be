import CHDF5

extension HDF5Dataset {
  /// Writes one chunk's stored bytes directly, bypassing HDF5's filter pipeline.
  ///
  /// The bytes must be what the dataset's filters would have produced. Bit `i` of `filterMask` is
  /// set when filter `i` of the pipeline was *not* applied (0: all applied). The dataset must already
  /// extend over the chunk.
  ///
  /// - Parameter offset: the chunk's first element, e.g. `[cell, 0, 0, 0]`.
  public func writeChunk(at offset: [Int], bytes: UnsafeRawBufferPointer, filterMask: UInt32 = 0)
    throws
  {
    try HDF5Library.sync {
      let id = try liveID()
      guard let base = bytes.baseAddress else {
        throw OPSDataError.invalidArgument(
          name: "\(file.path) \(name)", message: "empty chunk at \(offset)")
      }
      let start = offset.map { hsize_t($0) }
      _ = try check(
        H5Dwrite_chunk(id, 0, filterMask, start, bytes.count, base), "write chunk at \(offset)")
    }
  }

  /// The stored bytes of the chunk starting at `offset` and its filter mask; empty bytes when the
  /// chunk was never written.
  public func readChunk(at offset: [Int]) throws -> (bytes: [UInt8], filterMask: UInt32) {
    try HDF5Library.sync {
      let id = try liveID()
      let start = offset.map { hsize_t($0) }
      var size: hsize_t = 0
      _ = try check(H5Dget_chunk_storage_size(id, start, &size), "get chunk size at \(offset)")
      if size == 0 { return ([], 0) }
      var bytes = [UInt8](repeating: 0, count: Int(size))
      var mask: UInt32 = 0
      try bytes.withUnsafeMutableBytes { raw in
        _ = try check(
          H5Dread_chunk(id, 0, start, &mask, raw.baseAddress), "read chunk at \(offset)")
      }
      return (bytes, mask)
    }
  }
}
