import CHDF5
import Foundation

// Booleans as h5py and NumPy store them: an HDF5 enum over a signed byte with the members
// `FALSE` = 0 and `TRUE` = 1, which h5py reads back as `numpy.bool_` and AnnData as a `bool`
// column. Datasets, scalar datasets and scalar attributes are supported.

/// A new boolean datatype (caller closes it), or a negative identifier on failure.
private func makeBooleanType() -> hid_t {
  let base = H5Tcopy(grape_h5t_native_uint8())
  guard base >= 0 else { return base }
  defer { _ = H5Tclose(base) }
  guard H5Tset_sign(base, H5T_SGN_2) >= 0 else { return -1 }
  let type = H5Tenum_create(base)
  guard type >= 0 else { return type }
  var no: Int8 = 0
  var yes: Int8 = 1
  guard H5Tenum_insert(type, "FALSE", &no) >= 0, H5Tenum_insert(type, "TRUE", &yes) >= 0 else {
    _ = H5Tclose(type)
    return -1
  }
  return type
}

/// Whether `type` is a one-byte enum (the boolean encoding above, or one like it).
private func isByteEnum(_ type: hid_t) -> Bool {
  H5Tget_class(type) == H5T_ENUM && H5Tget_size(type) == 1
}

extension HDF5Group {
  /// Creates a one-dimensional boolean dataset at `path` (parent groups are created as needed),
  /// stored as h5py stores NumPy `bool`.
  @discardableResult
  public func writeBooleans(_ path: String, _ values: [Bool]) throws -> HDF5Dataset {
    try createBooleans(path, values, scalar: false)
  }

  /// Creates a scalar boolean dataset at `path` (AnnData's `numeric-scalar` for a `bool`).
  @discardableResult
  public func writeBoolean(_ path: String, _ value: Bool) throws -> HDF5Dataset {
    try createBooleans(path, [value], scalar: true)
  }

  private func createBooleans(_ path: String, _ values: [Bool], scalar: Bool) throws -> HDF5Dataset {
    try HDF5Library.sync {
      let full = childPath(path)
      let parentPath = (path as NSString).deletingLastPathComponent
      let parent = parentPath.isEmpty ? self : try groupCreatingIfNeeded(parentPath)
      let parentID = try parent.liveID()
      let leaf = (path as NSString).lastPathComponent
      let type = ScopedID(makeBooleanType(), .datatype)
      _ = try check(type.id, "create boolean datatype", object: full)
      var dims = [hsize_t(values.count)]
      let space = ScopedID(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil), .dataspace)
      _ = try check(space.id, "create dataspace", object: full)
      let dcpl = ScopedID(H5Pcreate(grape_h5p_dataset_create()), .propertyList)
      _ = try check(dcpl.id, "create dataset properties", object: full)
      _ = try check(H5Pset_obj_track_times(dcpl.id, false), "turn off time tracking", object: full)
      let did = H5Dcreate2(parentID, leaf, type.id, space.id, 0, dcpl.id, 0)
      _ = try check(did, "create dataset", object: full)
      let dataset = HDF5Dataset(file: file, name: full, id: did)
      if !values.isEmpty {
        let bytes = values.map { Int8($0 ? 1 : 0) }
        _ = try bytes.withUnsafeBytes { raw in
          try check(H5Dwrite(did, type.id, 0, 0, 0, raw.baseAddress), "write", object: full)
        }
      }
      return dataset
    }
  }
}

extension HDF5Dataset {
  /// Reads a boolean dataset (h5py's enum encoding, or integers where non-zero is true).
  public func readBooleans() throws -> [Bool] {
    let isEnum: Bool = try HDF5Library.sync {
      let id = try liveID()
      let type = ScopedID(H5Dget_type(id), .datatype)
      _ = try check(type.id, "get datatype")
      return isByteEnum(type.id)
    }
    guard isEnum else { return try read(as: Int64.self).map { $0 != 0 } }
    return try HDF5Library.sync {
      let id = try liveID()
      let fileType = ScopedID(H5Dget_type(id), .datatype)
      let memType = ScopedID(H5Tget_native_type(fileType.id, H5T_DIR_ASCEND), .datatype)
      _ = try check(memType.id, "get native datatype")
      let space = ScopedID(H5Dget_space(id), .dataspace)
      _ = try check(space.id, "get dataspace")
      let count = Int(H5Sget_simple_extent_npoints(space.id))
      var bytes = [Int8](repeating: 0, count: max(count, 0))
      if count > 0 {
        _ = try bytes.withUnsafeMutableBytes { raw in
          try check(H5Dread(id, memType.id, 0, 0, 0, raw.baseAddress), "read booleans")
        }
      }
      return bytes.map { $0 != 0 }
    }
  }
}

extension HDF5Attributes {
  /// Sets a scalar boolean attribute (h5py reads it as `numpy.bool_`).
  public func set(_ name: String, _ value: Bool) throws {
    try HDF5Library.sync {
      let label = "\(owner.name) attribute '\(name)'"
      guard owner.file.isWritable else {
        throw OPSDataError.hdf5(path: owner.file.path, object: label, operation: "write", detail: "file is read-only")
      }
      let id = try owner.liveID()
      if H5Aexists(id, name) > 0 {
        try HDF5Library.check(H5Adelete(id, name), path: owner.file.path, object: label, "replace")
      }
      let type = ScopedID(makeBooleanType(), .datatype)
      try HDF5Library.check(type.id, path: owner.file.path, object: label, "create boolean datatype")
      let space = ScopedID(H5Screate(H5S_SCALAR), .dataspace)
      try HDF5Library.check(space.id, path: owner.file.path, object: label, "create dataspace")
      let attribute = ScopedID(H5Acreate2(id, name, type.id, space.id, 0, 0), .attribute)
      try HDF5Library.check(attribute.id, path: owner.file.path, object: label, "create")
      var byte: Int8 = value ? 1 : 0
      try HDF5Library.check(H5Awrite(attribute.id, type.id, &byte), path: owner.file.path, object: label, "write")
    }
  }

  /// Reads a scalar boolean attribute (h5py's enum encoding, or an integer where non-zero is
  /// true).
  public func bool(_ name: String) throws -> Bool {
    let label = "\(owner.name) attribute '\(name)'"
    let byte: Int8? = try HDF5Library.sync {
      let id = try owner.liveID()
      guard H5Aexists(id, name) > 0 else {
        _ = HDF5Library.takeErrorMessage()
        throw OPSDataError.hdf5(path: owner.file.path, object: label, operation: "read", detail: "no such attribute")
      }
      let attribute = ScopedID(H5Aopen(id, name, 0), .attribute)
      try HDF5Library.check(attribute.id, path: owner.file.path, object: label, "open")
      let fileType = ScopedID(H5Aget_type(attribute.id), .datatype)
      try HDF5Library.check(fileType.id, path: owner.file.path, object: label, "get datatype")
      guard isByteEnum(fileType.id) else { return nil }
      let memType = ScopedID(H5Tget_native_type(fileType.id, H5T_DIR_ASCEND), .datatype)
      try HDF5Library.check(memType.id, path: owner.file.path, object: label, "get native datatype")
      var value: Int8 = 0
      try HDF5Library.check(H5Aread(attribute.id, memType.id, &value), path: owner.file.path, object: label, "read")
      return value
    }
    if let byte { return byte != 0 }
    return try int(name) != 0
  }
}
