import CHDF5

/// The element types this wrapper reads and writes.
public enum HDF5ElementType: String, Sendable, CaseIterable {
  /// 32-bit IEEE float.
  case float32
  /// 64-bit IEEE float.
  case float64
  /// Signed 32-bit integer.
  case int32
  /// Signed 64-bit integer.
  case int64
  /// Unsigned 16-bit integer.
  case uint16
  /// Unsigned 8-bit integer.
  case uint8
  /// Variable-length UTF-8 string (fixed-length strings are read as this type too).
  case string

  /// The size of one element in memory (pointer size for strings).
  public var byteSize: Int {
    switch self {
    case .float32, .int32: return 4
    case .float64, .int64, .string: return 8
    case .uint16: return 2
    case .uint8: return 1
    }
  }

  /// The native in-memory HDF5 type (a library-owned identifier, never closed).
  var nativeType: hid_t {
    switch self {
    case .float32: return grape_h5t_native_float()
    case .float64: return grape_h5t_native_double()
    case .int32: return grape_h5t_native_int32()
    case .int64: return grape_h5t_native_int64()
    case .uint16: return grape_h5t_native_uint16()
    case .uint8: return grape_h5t_native_uint8()
    case .string: return grape_h5t_c_s1()
    }
  }

  /// The element type of an HDF5 datatype, or `nil` when it is none of the supported ones.
  ///
  /// Other integer widths are reported as the nearest type that holds them (`int64` for signed and
  /// unsigned 32/64-bit, `int32` for signed 8/16-bit), since HDF5 converts on reading.
  static func from(datatype: hid_t) -> HDF5ElementType? {
    let cls = H5Tget_class(datatype)
    let size = H5Tget_size(datatype)
    if cls == H5T_FLOAT {
      return size <= 4 ? .float32 : .float64
    }
    if cls == H5T_STRING { return .string }
    if cls == H5T_INTEGER {
      let signed = H5Tget_sign(datatype) == H5T_SGN_2
      switch (signed, size) {
      case (false, 1): return .uint8
      case (false, 2): return .uint16
      case (true, 1), (true, 2), (true, 4): return .int32
      default: return .int64
      }
    }
    return nil
  }
}

/// A numeric Swift type that maps onto an HDF5 element type.
///
/// HDF5 converts between numeric types on reading and writing, so a `uint16` dataset can be read
/// as `Float` directly.
public protocol HDF5Scalar: Sendable {
  /// The HDF5 element type of this Swift type.
  static var hdf5ElementType: HDF5ElementType { get }
  /// The zero value, used to allocate read buffers.
  static var hdf5Zero: Self { get }
}

extension Float: HDF5Scalar {
  /// `float32`.
  public static var hdf5ElementType: HDF5ElementType { .float32 }
  /// Zero.
  public static var hdf5Zero: Float { 0 }
}
extension Double: HDF5Scalar {
  /// `float64`.
  public static var hdf5ElementType: HDF5ElementType { .float64 }
  /// Zero.
  public static var hdf5Zero: Double { 0 }
}
extension Int32: HDF5Scalar {
  /// `int32`.
  public static var hdf5ElementType: HDF5ElementType { .int32 }
  /// Zero.
  public static var hdf5Zero: Int32 { 0 }
}
extension Int64: HDF5Scalar {
  /// `int64`.
  public static var hdf5ElementType: HDF5ElementType { .int64 }
  /// Zero.
  public static var hdf5Zero: Int64 { 0 }
}
extension UInt16: HDF5Scalar {
  /// `uint16`.
  public static var hdf5ElementType: HDF5ElementType { .uint16 }
  /// Zero.
  public static var hdf5Zero: UInt16 { 0 }
}
extension UInt8: HDF5Scalar {
  /// `uint8`.
  public static var hdf5ElementType: HDF5ElementType { .uint8 }
  /// Zero.
  public static var hdf5Zero: UInt8 { 0 }
}

// MARK: - String datatypes

/// A new variable-length UTF-8 string datatype (caller closes it).
func makeVariableStringType() -> hid_t {
  let t = H5Tcopy(grape_h5t_c_s1())
  guard t >= 0 else { return t }
  _ = H5Tset_size(t, grape_h5t_variable())
  _ = H5Tset_cset(t, H5T_CSET_UTF8)
  _ = H5Tset_strpad(t, H5T_STR_NULLTERM)
  return t
}
