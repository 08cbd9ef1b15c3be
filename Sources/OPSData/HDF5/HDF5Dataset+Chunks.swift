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
      // H5Dread_chunk may write the chunk's full unfiltered size whatever the index says (a
      // damaged file can claim less), so the buffer holds the larger of the two.
      let nominal = try unfilteredChunkBytes ?? nominalChunkBytes(id)
      unfilteredChunkBytes = nominal
      let capacity = max(Double(size), nominal)
      guard AllocationLimit.fits(count: capacity, size: 1) else {
        throw OPSDataError.hdf5(
          path: file.path, object: name, operation: "read chunk at \(offset)", detail: "it claims \(Int(capacity)) bytes, more than this machine can hold")
      }
      var bytes = [UInt8](repeating: 0, count: Int(capacity))
      var mask: UInt32 = 0
      try bytes.withUnsafeMutableBytes { raw in
        _ = try check(
          H5Dread_chunk(id, 0, start, &mask, raw.baseAddress), "read chunk at \(offset)")
      }
      bytes.removeLast(bytes.count - Int(size))
      return (bytes, mask)
    }
  }

  /// The bytes of one chunk before filters: the chunk shape times the element size (0 when not chunked).
  private func nominalChunkBytes(_ id: hid_t) throws -> Double {
    let plist = ScopedID(H5Dget_create_plist(id), .propertyList)
    _ = try check(plist.id, "get creation properties")
    guard H5Pget_layout(plist.id) == H5D_CHUNKED else { return 0 }
    var chunk = [hsize_t](repeating: 0, count: 32)
    let rank = H5Pget_chunk(plist.id, 32, &chunk)
    _ = try check(rank, "get chunk shape")
    let type = ScopedID(H5Dget_type(id), .datatype)
    _ = try check(type.id, "get datatype")
    return chunk.prefix(Int(rank)).reduce(Double(H5Tget_size(type.id))) { $0 * Double($1) }
  }
}
