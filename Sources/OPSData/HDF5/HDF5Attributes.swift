import CHDF5
import Foundation

/// The attributes of a group or dataset: strings, integers, doubles and arrays of them.
///
/// Strings are written as variable-length UTF-8 (what h5py writes for `str`); integers as
/// 64-bit, doubles as 64-bit floats. Setting an existing attribute replaces it.
public struct HDF5Attributes: Sendable {
  let owner: HDF5Object

  private var path: String { owner.file.path }
  private func label(_ name: String) -> String { "\(owner.name) attribute '\(name)'" }

  // MARK: - Listing

  /// The names of all attributes, in name order.
  public func names() throws -> [String] {
    try HDF5Library.sync {
      let id = try owner.liveID()
      var names: [String] = []
      var index: hsize_t = 0
      while true {
        let length = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, 0)
        if length < 0 {
          _ = HDF5Library.takeErrorMessage()
          break
        }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        _ = try HDF5Library.check(
          H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, 0),
          path: path, object: owner.name, "read attribute name")
        names.append(
          String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        index += 1
      }
      return names
    }
  }

  /// Whether the attribute `name` exists.
  public func contains(_ name: String) -> Bool {
    HDF5Library.sync {
      guard let id = try? owner.liveID() else { return false }
      let exists = H5Aexists(id, name)
      if exists < 0 { _ = HDF5Library.takeErrorMessage() }
      return exists > 0
    }
  }

  /// Deletes the attribute `name` if it exists.
  public func remove(_ name: String) throws {
    try HDF5Library.sync {
      let id = try owner.liveID()
      if H5Aexists(id, name) > 0 {
        _ = try HDF5Library.check(H5Adelete(id, name), path: path, object: label(name), "delete")
      }
    }
  }

  // MARK: - Writing

  /// Sets a scalar string attribute.
  public func set(_ name: String, _ value: String) throws {
    try writeStrings(name, [value], scalar: true)
  }

  /// Sets a one-dimensional string-array attribute.
  public func set(_ name: String, _ values: [String]) throws {
    try writeStrings(name, values, scalar: false)
  }

  /// Sets a scalar integer attribute (stored as int64).
  public func set(_ name: String, _ value: Int) throws {
    try writeNumbers(name, [Int64(value)], type: .int64, scalar: true)
  }

  /// Sets a one-dimensional integer-array attribute (stored as int64).
  public func set(_ name: String, _ values: [Int]) throws {
    try writeNumbers(name, values.map { Int64($0) }, type: .int64, scalar: false)
  }

  /// Sets a scalar double attribute.
  public func set(_ name: String, _ value: Double) throws {
    try writeNumbers(name, [value], type: .float64, scalar: true)
  }

  /// Sets a one-dimensional double-array attribute (an empty array is allowed).
  public func set(_ name: String, _ values: [Double]) throws {
    try writeNumbers(name, values, type: .float64, scalar: false)
  }

  // MARK: - Reading

  /// Reads a string attribute (scalar, or the only element of an array).
  public func string(_ name: String) throws -> String {
    let values = try strings(name)
    guard values.count == 1, let first = values.first else {
      throw OPSDataError.hdf5(
        path: path, object: label(name), operation: "read",
        detail: "expected one string, found \(values.count)")
    }
    return first
  }

  /// Reads a string or string-array attribute.
  public func strings(_ name: String) throws -> [String] {
    try HDF5Library.sync {
      let attribute = try open(name)
      let fileType = ScopedID(H5Aget_type(attribute.id), .datatype)
      _ = try HDF5Library.check(fileType.id, path: path, object: label(name), "get datatype")
      let space = ScopedID(H5Aget_space(attribute.id), .dataspace)
      _ = try HDF5Library.check(space.id, path: path, object: label(name), "get dataspace")
      let count = Int(H5Sget_simple_extent_npoints(space.id))
      if count == 0 { return [] }
      guard H5Tget_class(fileType.id) == H5T_STRING else {
        throw OPSDataError.hdf5(
          path: path, object: label(name), operation: "read", detail: "not a string attribute")
      }
      guard
        let strings = readStringElements(
          fileType: fileType.id, space: space.id, count: count,
          read: { memType, buffer in
            H5Aread(attribute.id, memType, buffer)
          })
      else {
        throw OPSDataError.hdf5(
          path: path, object: label(name), operation: "read", detail: HDF5Library.takeErrorMessage()
        )
      }
      return strings
    }
  }

  /// Reads a numeric scalar attribute as an integer (floats must be whole numbers).
  public func int(_ name: String) throws -> Int {
    let value = try double(name)
    guard value.rounded() == value, abs(value) < 9e15 else {
      throw OPSDataError.hdf5(
        path: path, object: label(name), operation: "read", detail: "\(value) is not an integer")
    }
    return Int(value)
  }

  /// Reads a numeric scalar attribute (or the only element of a numeric array) as a double.
  public func double(_ name: String) throws -> Double {
    let values = try doubles(name)
    guard values.count == 1, let first = values.first else {
      throw OPSDataError.hdf5(
        path: path, object: label(name), operation: "read",
        detail: "expected one number, found \(values.count)")
    }
    return first
  }

  /// Reads a numeric attribute as an array of integers.
  public func ints(_ name: String) throws -> [Int] {
    try HDF5Library.sync {
      let attribute = try open(name)
      try requireNumeric(attribute.id, name)
      let count = try elementCount(attribute.id, name)
      var values = [Int64](repeating: 0, count: max(count, 1))
      if count > 0 {
        _ = try HDF5Library.check(
          H5Aread(attribute.id, grape_h5t_native_int64(), &values), path: path, object: label(name),
          "read")
      }
      return values.prefix(count).map { Int($0) }
    }
  }

  /// Reads a numeric attribute as an array of doubles.
  public func doubles(_ name: String) throws -> [Double] {
    try HDF5Library.sync {
      let attribute = try open(name)
      try requireNumeric(attribute.id, name)
      let count = try elementCount(attribute.id, name)
      var values = [Double](repeating: 0, count: max(count, 1))
      if count > 0 {
        _ = try HDF5Library.check(
          H5Aread(attribute.id, grape_h5t_native_double(), &values), path: path,
          object: label(name), "read")
      }
      return Array(values.prefix(count))
    }
  }

  // MARK: - Internals (lock held)

  private func open(_ name: String) throws -> ScopedID {
    let id = try owner.liveID()
    guard H5Aexists(id, name) > 0 else {
      _ = HDF5Library.takeErrorMessage()
      throw OPSDataError.hdf5(
        path: path, object: label(name), operation: "read", detail: "no such attribute")
    }
    let attribute = H5Aopen(id, name, 0)
    _ = try HDF5Library.check(attribute, path: path, object: label(name), "open")
    return ScopedID(attribute, .attribute)
  }

  private func elementCount(_ attribute: hid_t, _ name: String) throws -> Int {
    let space = ScopedID(H5Aget_space(attribute), .dataspace)
    _ = try HDF5Library.check(space.id, path: path, object: label(name), "get dataspace")
    return Int(H5Sget_simple_extent_npoints(space.id))
  }

  private func requireNumeric(_ attribute: hid_t, _ name: String) throws {
    let type = ScopedID(H5Aget_type(attribute), .datatype)
    let cls = H5Tget_class(type.id)
    guard cls == H5T_INTEGER || cls == H5T_FLOAT else {
      throw OPSDataError.hdf5(
        path: path, object: label(name), operation: "read", detail: "not a numeric attribute")
    }
  }

  private func create(_ name: String, type: hid_t, count: Int, scalar: Bool) throws -> ScopedID {
    let id = try owner.liveID()
    if H5Aexists(id, name) > 0 {
      _ = try HDF5Library.check(H5Adelete(id, name), path: path, object: label(name), "replace")
    }
    var dims = [hsize_t(count)]
    let space = ScopedID(
      scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil), .dataspace)
    _ = try HDF5Library.check(space.id, path: path, object: label(name), "create dataspace")
    let attribute = H5Acreate2(id, name, type, space.id, 0, 0)
    _ = try HDF5Library.check(attribute, path: path, object: label(name), "create")
    return ScopedID(attribute, .attribute)
  }

  private func writeStrings(_ name: String, _ values: [String], scalar: Bool) throws {
    try HDF5Library.sync {
      guard owner.file.isWritable else {
        throw OPSDataError.hdf5(
          path: path, object: label(name), operation: "write", detail: "file is read-only")
      }
      let type = ScopedID(makeVariableStringType(), .datatype)
      let attribute = try create(name, type: type.id, count: values.count, scalar: scalar)
      if values.isEmpty { return }
      try withCStringArray(values) { pointers in
        _ = try HDF5Library.check(
          H5Awrite(attribute.id, type.id, pointers), path: path, object: label(name), "write")
      }
    }
  }

  private func writeNumbers<T: HDF5Scalar>(
    _ name: String, _ values: [T], type: HDF5ElementType, scalar: Bool
  ) throws {
    try HDF5Library.sync {
      guard owner.file.isWritable else {
        throw OPSDataError.hdf5(
          path: path, object: label(name), operation: "write", detail: "file is read-only")
      }
      let attribute = try create(name, type: type.nativeType, count: values.count, scalar: scalar)
      if values.isEmpty { return }
      try values.withUnsafeBytes { raw in
        _ = try HDF5Library.check(
          H5Awrite(attribute.id, type.nativeType, raw.baseAddress), path: path, object: label(name),
          "write")
      }
    }
  }
}
