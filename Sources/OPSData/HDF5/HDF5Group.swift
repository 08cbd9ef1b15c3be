import CHDF5
import Foundation

/// What kind of object a link in a group points to.
public enum HDF5ObjectKind: Sendable, Equatable {
  /// A group.
  case group
  /// A dataset.
  case dataset
  /// A committed datatype or other object.
  case other
}

/// A group or dataset in an open ``HDF5File``: the shared part of both (name, file, attributes).
public class HDF5Object: @unchecked Sendable {
  /// The file the object lives in (kept open while the object is alive).
  public let file: HDF5File
  /// The object's absolute path inside the file, e.g. `/obs/gene`.
  public let name: String
  let handle: HDF5Handle

  init(file: HDF5File, name: String, id: hid_t, kind: HDF5Handle.Kind) {
    self.file = file
    self.name = name
    self.handle = HDF5Handle(id, kind: kind)
    file.register(handle)
  }

  /// The object's attributes.
  public var attributes: HDF5Attributes { HDF5Attributes(owner: self) }

  /// The identifier, or an error when the object (or its file) has been closed.
  func liveID() throws -> hid_t {
    guard handle.isOpen else {
      throw OPSDataError.hdf5(
        path: file.path, object: name, operation: "access", detail: "object is closed")
    }
    return handle.id
  }

  /// `child` joined to this object's path.
  func childPath(_ child: String) -> String {
    if child.hasPrefix("/") { return child }
    return name == "/" ? "/" + child : name + "/" + child
  }

  /// An ``OPSDataError`` for a failed call on `object` (default: this object).
  func check<T: BinaryInteger>(
    _ status: T, _ operation: @autoclosure () -> String, object: String? = nil
  ) throws -> T {
    try HDF5Library.check(status, path: file.path, object: object ?? name, operation())
  }
}

/// Options for creating a dataset.
public struct HDF5DatasetOptions: Sendable, Equatable {
  /// Whether the first axis is unlimited, so that ``HDF5Dataset/append(_:)`` can grow it.
  public var extendable: Bool
  /// The chunk shape; `nil` chooses one (about 64 KiB of rows) when chunking is needed.
  public var chunk: [Int]?
  /// Deflate (gzip) level 0–9, or `nil` for no compression.
  public var deflateLevel: Int?
  /// Whether to apply HDF5's byte-shuffle filter before deflate (helps integer images).
  public var shuffle: Bool

  /// Options with the given fields; the defaults give a fixed-size, contiguous dataset.
  public init(
    extendable: Bool = false, chunk: [Int]? = nil, deflateLevel: Int? = nil, shuffle: Bool = false
  ) {
    self.extendable = extendable
    self.chunk = chunk
    self.deflateLevel = deflateLevel
    self.shuffle = shuffle
  }

  /// A fixed-size, contiguous, uncompressed dataset.
  public static let fixed = HDF5DatasetOptions()

  /// An extendable dataset chunked by `chunkRows` rows along the first axis.
  public static func extendable(
    chunkRows: Int? = nil, deflateLevel: Int? = nil, shuffle: Bool = false
  )
    -> HDF5DatasetOptions
  {
    HDF5DatasetOptions(
      extendable: true, chunk: chunkRows.map { [$0] }, deflateLevel: deflateLevel, shuffle: shuffle)
  }
}

/// A group in an open HDF5 file.
public final class HDF5Group: HDF5Object, @unchecked Sendable {
  init(file: HDF5File, name: String, id: hid_t) {
    super.init(file: file, name: name, id: id, kind: .group)
  }

  // MARK: - Navigation

  /// The names of the group's direct members, in name order.
  public func members() throws -> [String] {
    try HDF5Library.sync {
      let id = try liveID()
      var info = H5G_info_t()
      _ = try check(H5Gget_info(id, &info), "list members")
      var names: [String] = []
      for i in 0..<info.nlinks {
        let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, 0)
        _ = try check(length, "read member name")
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        _ = try check(
          H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, 0),
          "read member name")
        names.append(
          String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
      }
      return names
    }
  }

  /// Whether a link `path` (relative or absolute, possibly nested) exists.
  public func contains(_ path: String) throws -> Bool {
    try HDF5Library.sync {
      let id = try liveID()
      var prefix = path.hasPrefix("/") ? "/" : ""
      for component in path.split(separator: "/") {
        prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
        let exists = H5Lexists(id, prefix, 0)
        if exists < 0 {
          _ = HDF5Library.takeErrorMessage()
          return false
        }
        if exists == 0 { return false }
      }
      return true
    }
  }

  /// The kind of object at `path`, or `nil` when there is none.
  public func kind(of path: String) throws -> HDF5ObjectKind? {
    guard try contains(path) else { return nil }
    return try HDF5Library.sync {
      let id = try liveID()
      let object = H5Oopen(id, path, 0)
      _ = try check(object, "open object", object: childPath(path))
      defer { _ = H5Oclose(object) }
      switch H5Iget_type(object) {
      case H5I_GROUP: return .group
      case H5I_DATASET: return .dataset
      default: return .other
      }
    }
  }

  /// Opens the subgroup at `path`.
  public func group(_ path: String) throws -> HDF5Group {
    try HDF5Library.sync {
      let id = try liveID()
      let full = childPath(path)
      guard try contains(path) else {
        throw OPSDataError.hdf5(
          path: file.path, object: full, operation: "open group", detail: "no such group")
      }
      let gid = H5Gopen2(id, path, 0)
      _ = try check(gid, "open group", object: full)
      return HDF5Group(file: file, name: full, id: gid)
    }
  }

  /// Creates the subgroup at `path`, with any missing intermediate groups.
  @discardableResult
  public func createGroup(_ path: String) throws -> HDF5Group {
    try HDF5Library.sync {
      let id = try liveID()
      let full = childPath(path)
      try createParents(of: path)
      let gcpl = try groupCreationProperties(for: full)
      let gid = H5Gcreate2(id, path, 0, gcpl.id, 0)
      _ = try check(gid, "create group", object: full)
      return HDF5Group(file: file, name: full, id: gid)
    }
  }

  /// Group creation properties without modification times in object headers, so that the same
  /// content always gives the same bytes (a simulated screen is reproducible to the byte).
  private func groupCreationProperties(for full: String) throws -> ScopedID {
    let gcpl = ScopedID(H5Pcreate(grape_h5p_group_create()), .propertyList)
    _ = try check(gcpl.id, "create group properties", object: full)
    _ = try check(H5Pset_obj_track_times(gcpl.id, false), "turn off time tracking", object: full)
    return gcpl
  }

  /// Creates the missing groups on the way to `path` (not `path` itself) one by one, since the
  /// ones HDF5 makes by itself would record times.
  private func createParents(of path: String) throws {
    let id = try liveID()
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/").dropLast() {
      prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
      if try contains(prefix) { continue }
      let full = childPath(prefix)
      let gcpl = try groupCreationProperties(for: full)
      let gid = ScopedID(H5Gcreate2(id, prefix, 0, gcpl.id, 0), .group)
      _ = try check(gid.id, "create group", object: full)
    }
  }

  /// Opens the group at `path`, creating it (and its parents) if needed.
  public func groupCreatingIfNeeded(_ path: String) throws -> HDF5Group {
    if path.isEmpty || path == "." { return try group(".") }
    return try contains(path) ? group(path) : createGroup(path)
  }

  /// Opens the dataset at `path`.
  public func dataset(_ path: String) throws -> HDF5Dataset {
    try HDF5Library.sync {
      let id = try liveID()
      let full = childPath(path)
      guard try contains(path) else {
        throw OPSDataError.hdf5(
          path: file.path, object: full, operation: "open dataset", detail: "no such dataset")
      }
      let did = H5Dopen2(id, path, 0)
      _ = try check(did, "open dataset", object: full)
      return HDF5Dataset(file: file, name: full, id: did)
    }
  }

  /// Removes the link `path` (the space is not reclaimed, as usual in HDF5).
  public func remove(_ path: String) throws {
    try HDF5Library.sync {
      let id = try liveID()
      _ = try check(H5Ldelete(id, path, 0), "delete", object: childPath(path))
    }
  }

  // MARK: - Creating datasets

  /// Creates a dataset of `type` and `shape` at `path` (parent groups are created as needed).
  ///
  /// - Parameters:
  ///   - shape: the initial shape; an empty array makes a scalar dataset.
  ///   - options: extendability, chunking and compression.
  public func createDataset(
    _ path: String, type: HDF5ElementType, shape: [Int], options: HDF5DatasetOptions = .fixed
  ) throws -> HDF5Dataset {
    try HDF5Library.sync {
      let id = try liveID()
      let full = childPath(path)
      if shape.contains(where: { $0 < 0 }) {
        throw OPSDataError.invalidArgument(
          name: "\(file.path) \(full)", message: "negative dimension in shape \(shape)")
      }
      let dims = shape.map { hsize_t($0) }
      var maxDims = dims
      if options.extendable {
        guard !shape.isEmpty else {
          throw OPSDataError.invalidArgument(
            name: "\(file.path) \(full)", message: "a scalar dataset cannot be extendable")
        }
        maxDims[0] = grape_h5s_unlimited()
      }
      let space = ScopedID(
        shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(shape.count), dims, maxDims),
        .dataspace)
      _ = try check(space.id, "create dataspace", object: full)

      let fileType: ScopedID
      if type == .string {
        fileType = ScopedID(makeVariableStringType(), .datatype)
      } else {
        fileType = ScopedID(H5Tcopy(type.nativeType), .datatype)
      }
      _ = try check(fileType.id, "create datatype", object: full)

      let dcpl = ScopedID(H5Pcreate(grape_h5p_dataset_create()), .propertyList)
      _ = try check(dcpl.id, "create dataset properties", object: full)
      _ = try check(H5Pset_obj_track_times(dcpl.id, false), "turn off time tracking", object: full)
      let needsChunks =
        options.extendable || options.deflateLevel != nil || options.shuffle || options.chunk != nil
      let zeroSizedFixed = !options.extendable && shape.contains(0)
      if needsChunks && !shape.isEmpty && !zeroSizedFixed {
        var chunk = chunkShape(for: shape, type: type, requested: options.chunk)
        for axis in chunk.indices where !(options.extendable && axis == 0) {
          chunk[axis] = max(1, min(chunk[axis], shape[axis]))
        }
        _ = try check(
          H5Pset_chunk(dcpl.id, Int32(chunk.count), chunk.map { hsize_t($0) }),
          "set chunk shape \(chunk)", object: full)
        if options.shuffle {
          _ = try check(H5Pset_shuffle(dcpl.id), "set shuffle filter", object: full)
        }
        if let level = options.deflateLevel {
          guard (0...9).contains(level) else {
            throw OPSDataError.invalidArgument(
              name: "\(file.path) \(full)", message: "deflate level \(level) is not in 0...9")
          }
          guard H5Zfilter_avail(H5Z_filter_t(1)) > 0 else {
            throw OPSDataError.hdf5(
              path: file.path, object: full, operation: "set deflate",
              detail: "the deflate filter is not available")
          }
          _ = try check(H5Pset_deflate(dcpl.id, UInt32(level)), "set deflate", object: full)
        }
      }
      try createParents(of: path)
      let did = H5Dcreate2(id, path, fileType.id, space.id, 0, dcpl.id, 0)
      _ = try check(did, "create dataset", object: full)
      return HDF5Dataset(file: file, name: full, id: did)
    }
  }

  /// Creates a dataset at `path` holding `values` with `shape` (default: one-dimensional).
  @discardableResult
  public func write<T: HDF5Scalar>(
    _ path: String, _ values: [T], shape: [Int]? = nil, options: HDF5DatasetOptions = .fixed
  ) throws -> HDF5Dataset {
    let shape = shape ?? [values.count]
    try checkCount(values.count, shape: shape, path: path)
    let dataset = try createDataset(path, type: T.hdf5ElementType, shape: shape, options: options)
    if !values.isEmpty { try dataset.write(values) }
    return dataset
  }

  /// Creates a one-dimensional variable-length UTF-8 string dataset at `path`.
  @discardableResult
  public func writeStrings(_ path: String, _ values: [String], options: HDF5DatasetOptions = .fixed)
    throws -> HDF5Dataset
  {
    let dataset = try createDataset(path, type: .string, shape: [values.count], options: options)
    if !values.isEmpty { try dataset.writeStrings(values) }
    return dataset
  }

  /// Creates a scalar variable-length UTF-8 string dataset at `path`.
  @discardableResult
  public func writeString(_ path: String, _ value: String) throws -> HDF5Dataset {
    let dataset = try createDataset(path, type: .string, shape: [])
    try dataset.writeStrings([value])
    return dataset
  }

  private func checkCount(_ count: Int, shape: [Int], path: String) throws {
    let expected = shape.reduce(1, *)
    if expected != count {
      throw OPSDataError.invalidArgument(
        name: "\(file.path) \(childPath(path))",
        message: "\(count) values do not fill shape \(shape) (\(expected) elements)")
    }
  }

  /// A chunk shape: `requested` completed with the full trailing dimensions, or about 64 KiB.
  private func chunkShape(for shape: [Int], type: HDF5ElementType, requested: [Int]?) -> [Int] {
    var chunk = shape.map { max($0, 1) }
    if let requested, !requested.isEmpty {
      for (axis, size) in requested.enumerated() where axis < chunk.count {
        chunk[axis] = max(size, 1)
      }
      return chunk
    }
    let rowBytes = max(1, chunk.dropFirst().reduce(1, *) * type.byteSize)
    chunk[0] = max(1, min(1 << 20, (1 << 16) / rowBytes))
    return chunk
  }
}
