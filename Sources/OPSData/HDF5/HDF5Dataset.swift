import CHDF5
import Foundation

/// A dataset in an open HDF5 file: shape, element type, whole and row-wise reads and writes.
///
/// Rows are slices along the first axis. Reads convert to the requested Swift type (a `uint16`
/// dataset reads as `[Float]` directly); row reads take any list of indices, sorted or not, with
/// repeats.
public final class HDF5Dataset: HDF5Object, @unchecked Sendable {
  init(file: HDF5File, name: String, id: hid_t) {
    super.init(file: file, name: name, id: id, kind: .dataset)
  }

  /// The bytes of one chunk before filters, read once by the first direct chunk read (guarded by
  /// `HDF5Library.sync`, as every access to the dataset).
  var unfilteredChunkBytes: Double?

  // MARK: - Shape and type

  /// The current shape (empty for a scalar dataset).
  public var shape: [Int] {
    get throws {
      try HDF5Library.sync {
        let id = try liveID()
        let space = ScopedID(H5Dget_space(id), .dataspace)
        _ = try check(space.id, "get dataspace")
        return try dims(of: space.id).current
      }
    }
  }

  /// The maximum shape; `nil` entries are unlimited.
  public var maxShape: [Int?] {
    get throws {
      try HDF5Library.sync {
        let id = try liveID()
        let space = ScopedID(H5Dget_space(id), .dataspace)
        _ = try check(space.id, "get dataspace")
        return try dims(of: space.id).maximum
      }
    }
  }

  /// The element type as stored, or `nil` for a type this wrapper does not handle.
  public var elementType: HDF5ElementType? {
    get throws {
      try HDF5Library.sync {
        let id = try liveID()
        let type = ScopedID(H5Dget_type(id), .datatype)
        _ = try check(type.id, "get datatype")
        return HDF5ElementType.from(datatype: type.id)
      }
    }
  }

  /// The chunk shape, or `nil` for a contiguous or compact dataset.
  public var chunkShape: [Int]? {
    get throws {
      try HDF5Library.sync {
        let id = try liveID()
        let plist = ScopedID(H5Dget_create_plist(id), .propertyList)
        _ = try check(plist.id, "get creation properties")
        guard H5Pget_layout(plist.id) == H5D_CHUNKED else { return nil }
        var chunk = [hsize_t](repeating: 0, count: 32)
        let rank = H5Pget_chunk(plist.id, 32, &chunk)
        _ = try check(rank, "get chunk shape")
        return chunk.prefix(Int(rank)).map { Int($0) }
      }
    }
  }

  /// The filters applied to chunks, by HDF5 filter name (e.g. `deflate`, `shuffle`).
  public var filters: [String] {
    get throws {
      try HDF5Library.sync {
        let id = try liveID()
        let plist = ScopedID(H5Dget_create_plist(id), .propertyList)
        _ = try check(plist.id, "get creation properties")
        let count = H5Pget_nfilters(plist.id)
        _ = try check(count, "count filters")
        var names: [String] = []
        for i in 0..<UInt32(count) {
          var flags: UInt32 = 0
          var nelements = 0
          var name = [CChar](repeating: 0, count: 256)
          var config: UInt32 = 0
          let filter = H5Pget_filter2(plist.id, i, &flags, &nelements, nil, 256, &name, &config)
          _ = try check(filter, "read filter")
          names.append(
            String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
      }
    }
  }

  /// The number of rows (the first dimension; 1 for a scalar dataset).
  public var rowCount: Int {
    get throws {
      let s = try shape
      return s.first ?? 1
    }
  }

  // MARK: - Reading

  /// Reads the whole dataset, converted to `T`, in row-major order.
  public func read<T: HDF5Scalar>(as type: T.Type = T.self) throws -> [T] {
    try HDF5Library.sync {
      let id = try liveID()
      try requireNumeric()
      let shape = try self.shape
      let claimed = AllocationLimit.elements(shape)
      guard AllocationLimit.fits(count: claimed, size: MemoryLayout<T>.stride) else {
        throw OPSDataError.hdf5(
          path: file.path, object: name, operation: "read",
          detail: "its shape \(shape) needs \(AllocationLimit.gibibytes(claimed, size: MemoryLayout<T>.stride)), more than this machine can hold")
      }
      let count = shape.reduce(1, *)
      var values = [T](repeating: T.hdf5Zero, count: count)
      if count == 0 { return values }
      try values.withUnsafeMutableBytes { raw in
        _ = try check(H5Dread(id, T.hdf5ElementType.nativeType, 0, 0, 0, raw.baseAddress), "read")
      }
      return values
    }
  }

  /// Reads a contiguous range of rows, converted to `T`.
  public func readRows<T: HDF5Scalar>(_ rows: Range<Int>, as type: T.Type = T.self) throws -> [T] {
    try readRows(Array(rows), as: type)
  }

  /// Reads the rows at `indices` (any order, repeats allowed), converted to `T`.
  ///
  /// The result holds `indices.count` rows in the order of `indices`.
  public func readRows<T: HDF5Scalar>(_ indices: [Int], as type: T.Type = T.self) throws -> [T] {
    try HDF5Library.sync {
      try requireNumeric()
      let shape = try self.shape
      guard !shape.isEmpty else {
        throw OPSDataError.hdf5(
          path: file.path, object: name, operation: "read rows", detail: "dataset is scalar")
      }
      let claimed = AllocationLimit.elements(Array(shape.dropFirst())) * Double(indices.count)
      guard AllocationLimit.fits(count: claimed, size: MemoryLayout<T>.stride) else {
        throw OPSDataError.hdf5(
          path: file.path, object: name, operation: "read rows",
          detail: "\(indices.count) rows of shape \(Array(shape.dropFirst())) need \(AllocationLimit.gibibytes(claimed, size: MemoryLayout<T>.stride)), more than this machine can hold")
      }
      let rowSize = shape.dropFirst().reduce(1, *)
      var values = [T](repeating: T.hdf5Zero, count: indices.count * rowSize)
      try values.withUnsafeMutableBytes { raw in
        guard let base = raw.baseAddress else { return }
        try readRowsRaw(
          indices, shape: shape, memType: T.hdf5ElementType.nativeType,
          elementSize: MemoryLayout<T>.stride, into: base)
      }
      return values
    }
  }

  /// Reads the rows at `indices` into `buffer`, which must hold `indices.count` rows of `T`.
  ///
  /// This is the allocation-free form of ``readRows(_:as:)-4ew0k`` for loaders that reuse buffers.
  public func readRows<T: HDF5Scalar>(_ indices: [Int], into buffer: UnsafeMutableBufferPointer<T>)
    throws
  {
    try HDF5Library.sync {
      try requireNumeric()
      let shape = try self.shape
      guard !shape.isEmpty else {
        throw OPSDataError.hdf5(
          path: file.path, object: name, operation: "read rows", detail: "dataset is scalar")
      }
      let rowSize = shape.dropFirst().reduce(1, *)
      guard buffer.count >= indices.count * rowSize else {
        throw OPSDataError.invalidArgument(
          name: "\(file.path) \(name)",
          message: "buffer of \(buffer.count) elements is too small for \(indices.count) rows")
      }
      guard let base = buffer.baseAddress, !indices.isEmpty else { return }
      try readRowsRaw(
        indices, shape: shape, memType: T.hdf5ElementType.nativeType,
        elementSize: MemoryLayout<T>.stride, into: UnsafeMutableRawPointer(base))
    }
  }

  /// Reads a string dataset (one-dimensional or scalar), variable or fixed length.
  public func readStrings() throws -> [String] {
    try HDF5Library.sync {
      let id = try liveID()
      let fileType = ScopedID(H5Dget_type(id), .datatype)
      _ = try check(fileType.id, "get datatype")
      let space = ScopedID(H5Dget_space(id), .dataspace)
      _ = try check(space.id, "get dataspace")
      let count = Int(H5Sget_simple_extent_npoints(space.id))
      if count == 0 { return [] }
      guard count > 0, AllocationLimit.fits(count: Double(count), size: 64) else {
        throw OPSDataError.hdf5(
          path: file.path, object: name, operation: "read strings", detail: "it claims \(count) strings, more than this machine can hold")
      }
      guard H5Tget_class(fileType.id) == H5T_STRING else {
        throw OPSDataError.hdf5(
          path: file.path, object: name, operation: "read strings",
          detail: "dataset does not hold strings")
      }
      guard
        let strings = readStringElements(
          fileType: fileType.id, space: space.id, count: count,
          read: { memType, buffer in
            H5Dread(id, memType, 0, 0, 0, buffer)
          })
      else {
        throw OPSDataError.hdf5(
          path: file.path, object: name, operation: "read strings",
          detail: HDF5Library.takeErrorMessage())
      }
      return strings
    }
  }

  /// Reads a scalar string dataset (or the first element of a string array).
  public func readString() throws -> String {
    guard let first = try readStrings().first else {
      throw OPSDataError.hdf5(
        path: file.path, object: name, operation: "read string", detail: "dataset is empty")
    }
    return first
  }

  // MARK: - Writing

  /// Writes `values` over the whole dataset (row-major, converted from `T`).
  public func write<T: HDF5Scalar>(_ values: [T]) throws {
    try HDF5Library.sync {
      let id = try liveID()
      let count = try shape.reduce(1, *)
      guard values.count == count else {
        throw OPSDataError.invalidArgument(
          name: "\(file.path) \(name)", message: "\(values.count) values for \(count) elements")
      }
      if count == 0 { return }
      try values.withUnsafeBytes { raw in
        _ = try check(H5Dwrite(id, T.hdf5ElementType.nativeType, 0, 0, 0, raw.baseAddress), "write")
      }
    }
  }

  /// Writes whole rows starting at row `start`; the dataset must already be large enough.
  public func write<T: HDF5Scalar>(_ values: [T], startingAtRow start: Int) throws {
    try HDF5Library.sync {
      let shape = try self.shape
      try values.withUnsafeBytes { raw in
        try writeRowsRaw(
          raw, count: values.count, memType: T.hdf5ElementType.nativeType, shape: shape,
          start: start)
      }
    }
  }

  /// Writes string elements over the whole dataset (one-dimensional or scalar).
  public func writeStrings(_ values: [String]) throws {
    try HDF5Library.sync {
      let id = try liveID()
      let count = try shape.reduce(1, *)
      guard values.count == count else {
        throw OPSDataError.invalidArgument(
          name: "\(file.path) \(name)", message: "\(values.count) strings for \(count) elements")
      }
      if count == 0 { return }
      let memType = ScopedID(makeVariableStringType(), .datatype)
      try withCStringArray(values) { pointers in
        _ = try check(H5Dwrite(id, memType.id, 0, 0, 0, pointers), "write strings")
      }
    }
  }

  /// Appends whole rows at the end of an extendable dataset, growing its first axis.
  public func append<T: HDF5Scalar>(_ values: [T]) throws {
    try HDF5Library.sync {
      let shape = try self.shape
      let rowSize = shape.dropFirst().reduce(1, *)
      guard !shape.isEmpty, rowSize > 0, values.count % rowSize == 0 else {
        throw OPSDataError.invalidArgument(
          name: "\(file.path) \(name)",
          message: "\(values.count) values are not whole rows of shape \(shape)")
      }
      if values.isEmpty { return }
      let start = shape[0]
      try resize(rows: start + values.count / rowSize)
      try values.withUnsafeBytes { raw in
        try writeRowsRaw(
          raw, count: values.count, memType: T.hdf5ElementType.nativeType,
          shape: [start + values.count / rowSize] + shape.dropFirst(), start: start)
      }
    }
  }

  /// Appends elements to a one-dimensional extendable string dataset.
  public func appendStrings(_ values: [String]) throws {
    try HDF5Library.sync {
      let id = try liveID()
      let shape = try self.shape
      guard shape.count == 1 else {
        throw OPSDataError.invalidArgument(
          name: "\(file.path) \(name)", message: "string append needs a one-dimensional dataset")
      }
      if values.isEmpty { return }
      let start = shape[0]
      try resize(rows: start + values.count)
      let fileSpace = ScopedID(H5Dget_space(id), .dataspace)
      _ = try check(fileSpace.id, "get dataspace")
      var offset = [hsize_t(start)]
      var count = [hsize_t(values.count)]
      _ = try check(
        H5Sselect_hyperslab(fileSpace.id, H5S_SELECT_SET, &offset, nil, &count, nil), "select rows")
      let memSpace = ScopedID(H5Screate_simple(1, &count, nil), .dataspace)
      let memType = ScopedID(makeVariableStringType(), .datatype)
      try withCStringArray(values) { pointers in
        _ = try check(
          H5Dwrite(id, memType.id, memSpace.id, fileSpace.id, 0, pointers), "append strings")
      }
    }
  }

  /// Sets the first dimension to `rows` (the dataset must be extendable, or shrink within bounds).
  public func resize(rows: Int) throws {
    try HDF5Library.sync {
      let id = try liveID()
      var dims = try shape.map { hsize_t($0) }
      guard !dims.isEmpty else {
        throw OPSDataError.invalidArgument(
          name: "\(file.path) \(name)", message: "a scalar dataset cannot be resized")
      }
      dims[0] = hsize_t(rows)
      _ = try check(H5Dset_extent(id, dims), "resize to \(rows) rows")
    }
  }

  // MARK: - Internals (lock held)

  private func requireNumeric() throws {
    let id = try liveID()
    let type = ScopedID(H5Dget_type(id), .datatype)
    _ = try check(type.id, "get datatype")
    let cls = H5Tget_class(type.id)
    guard cls == H5T_INTEGER || cls == H5T_FLOAT else {
      throw OPSDataError.hdf5(
        path: file.path, object: name, operation: "read", detail: "dataset is not numeric")
    }
  }

  private func dims(of space: hid_t) throws -> (current: [Int], maximum: [Int?]) {
    let rank = H5Sget_simple_extent_ndims(space)
    _ = try check(rank, "get rank")
    var current = [hsize_t](repeating: 0, count: Int(rank))
    var maximum = [hsize_t](repeating: 0, count: Int(rank))
    if rank > 0 {
      _ = try check(H5Sget_simple_extent_dims(space, &current, &maximum), "get dimensions")
    }
    let unlimited = grape_h5s_unlimited()
    return (current.map { Int($0) }, maximum.map { $0 == unlimited ? nil : Int($0) })
  }

  private func writeRowsRaw(
    _ raw: UnsafeRawBufferPointer, count: Int, memType: hid_t, shape: [Int], start: Int
  ) throws {
    let id = try liveID()
    guard !shape.isEmpty else {
      throw OPSDataError.invalidArgument(
        name: "\(file.path) \(name)", message: "a scalar dataset has no rows")
    }
    let rowSize = shape.dropFirst().reduce(1, *)
    guard rowSize > 0, count % rowSize == 0 else {
      throw OPSDataError.invalidArgument(
        name: "\(file.path) \(name)",
        message: "\(count) values are not whole rows of shape \(shape)")
    }
    let rows = count / rowSize
    if rows == 0 { return }
    guard start >= 0, start + rows <= shape[0] else {
      throw OPSDataError.invalidArgument(
        name: "\(file.path) \(name)",
        message: "rows \(start)..<\(start + rows) outside 0..<\(shape[0])")
    }
    let fileSpace = ScopedID(H5Dget_space(id), .dataspace)
    _ = try check(fileSpace.id, "get dataspace")
    var offset = [hsize_t](repeating: 0, count: shape.count)
    offset[0] = hsize_t(start)
    var counts = shape.map { hsize_t($0) }
    counts[0] = hsize_t(rows)
    _ = try check(
      H5Sselect_hyperslab(fileSpace.id, H5S_SELECT_SET, &offset, nil, &counts, nil), "select rows")
    let memSpace = ScopedID(H5Screate_simple(Int32(counts.count), &counts, nil), .dataspace)
    _ = try check(memSpace.id, "create memory dataspace")
    _ = try check(
      H5Dwrite(id, memType, memSpace.id, fileSpace.id, 0, raw.baseAddress),
      "write rows \(start)..<\(start + rows)")
  }

  /// Reads rows in any order: sorted runs of consecutive rows are read in one call each, then
  /// scattered to their output positions.
  private func readRowsRaw(
    _ indices: [Int], shape: [Int], memType: hid_t, elementSize: Int,
    into output: UnsafeMutableRawPointer
  ) throws {
    let id = try liveID()
    let rowCount = shape[0]
    for index in indices where index < 0 || index >= rowCount {
      throw OPSDataError.invalidArgument(
        name: "\(file.path) \(name)", message: "row \(index) is outside 0..<\(rowCount)")
    }
    if indices.isEmpty { return }
    let rowSize = shape.dropFirst().reduce(1, *)
    let rowBytes = rowSize * elementSize
    if rowBytes == 0 { return }

    // Sort positions by row; find distinct rows and runs of consecutive rows among them.
    let order = indices.indices.sorted { (indices[$0], $0) < (indices[$1], $1) }
    var distinctRows: [Int] = []
    var firstPosition: [Int] = []  // output position of the first occurrence of each distinct row
    var repeats: [(from: Int, to: Int)] = []
    distinctRows.reserveCapacity(indices.count)
    for position in order {
      let row = indices[position]
      if let last = distinctRows.last, last == row {
        repeats.append((from: firstPosition[firstPosition.count - 1], to: position))
      } else {
        distinctRows.append(row)
        firstPosition.append(position)
      }
    }
    let inOrder =
      repeats.isEmpty && firstPosition.enumerated().allSatisfy { $0.offset == $0.element }

    let fileSpace = ScopedID(H5Dget_space(id), .dataspace)
    _ = try check(fileSpace.id, "get dataspace")
    let scratch: UnsafeMutableRawPointer? =
      inOrder
      ? nil
      : UnsafeMutableRawPointer.allocate(byteCount: distinctRows.count * rowBytes, alignment: 16)
    defer { scratch?.deallocate() }
    let target = scratch ?? output

    // One read per run of consecutive rows: a single regular hyperslab each, which HDF5 maps to
    // chunks quickly (a union of many hyperslabs falls back to element-by-element mapping).
    var runStart = 0
    for k in 1...distinctRows.count
    where k == distinctRows.count || distinctRows[k] != distinctRows[k - 1] + 1 {
      var offset = [hsize_t](repeating: 0, count: shape.count)
      offset[0] = hsize_t(distinctRows[runStart])
      var counts = shape.map { hsize_t($0) }
      counts[0] = hsize_t(k - runStart)
      _ = try check(
        H5Sselect_hyperslab(fileSpace.id, H5S_SELECT_SET, &offset, nil, &counts, nil), "select rows"
      )
      let memSpace = ScopedID(H5Screate_simple(Int32(counts.count), &counts, nil), .dataspace)
      _ = try check(memSpace.id, "create memory dataspace")
      _ = try check(
        H5Dread(id, memType, memSpace.id, fileSpace.id, 0, target + runStart * rowBytes),
        "read rows")
      runStart = k
    }

    if let scratch {
      for (k, position) in firstPosition.enumerated() {
        (output + position * rowBytes).copyMemory(from: scratch + k * rowBytes, byteCount: rowBytes)
      }
      for (from, to) in repeats {
        (output + to * rowBytes).copyMemory(from: output + from * rowBytes, byteCount: rowBytes)
      }
    }
  }
}
