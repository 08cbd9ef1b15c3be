import CHDF5
import Foundation

// Helpers shared by datasets and attributes for moving strings in and out of HDF5.

/// Calls `body` with a buffer of C string pointers for `strings` (freed afterwards).
func withCStringArray<R>(
  _ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws -> R
) rethrows -> R {
  var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
  defer { for p in pointers { free(p) } }
  if pointers.isEmpty { pointers.append(nil) }
  return try pointers.withUnsafeMutableBufferPointer { buffer in
    // `baseAddress` is never nil: the array holds at least one element.
    guard let base = buffer.baseAddress else { preconditionFailure("empty pointer buffer") }
    return try body(base)
  }
}

/// Reads `count` strings of file type `fileType` through `read(memType, buffer)`.
///
/// Variable-length strings are read as C pointers and reclaimed with `H5Dvlen_reclaim` over
/// `space`; fixed-length strings are read as padded bytes and trimmed at the first NUL.
func readStringElements(
  fileType: hid_t, space: hid_t, count: Int, read: (hid_t, UnsafeMutableRawPointer) -> herr_t
) -> [String]? {
  guard H5Tget_class(fileType) == H5T_STRING else { return nil }
  let cset = H5Tget_cset(fileType)
  if H5Tis_variable_str(fileType) > 0 {
    let memType = ScopedID(H5Tcopy(grape_h5t_c_s1()), .datatype)
    _ = H5Tset_size(memType.id, grape_h5t_variable())
    _ = H5Tset_cset(memType.id, cset)
    var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: max(count, 1))
    let status = pointers.withUnsafeMutableBytes { raw -> herr_t in
      guard let base = raw.baseAddress else { return -1 }
      return read(memType.id, base)
    }
    guard status >= 0 else { return nil }
    let result = pointers.prefix(count).map { p in p.map { String(cString: $0) } ?? "" }
    pointers.withUnsafeMutableBytes { raw in
      if let base = raw.baseAddress, count > 0 { _ = H5Dvlen_reclaim(memType.id, space, 0, base) }
    }
    return result
  }
  let size = H5Tget_size(fileType)
  guard size > 0 else { return nil }
  let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
  let memType = ScopedID(H5Tcopy(grape_h5t_c_s1()), .datatype)
  _ = H5Tset_size(memType.id, size)
  _ = H5Tset_cset(memType.id, cset)
  _ = H5Tset_strpad(memType.id, H5T_STR_NULLPAD)
  var bytes = [UInt8](repeating: 0, count: max(count * size, 1))
  let status = bytes.withUnsafeMutableBytes { raw -> herr_t in
    guard let base = raw.baseAddress else { return -1 }
    return read(memType.id, base)
  }
  guard status >= 0 else { return nil }
  return (0..<count).map { i in
    let slice = bytes[(i * size)..<((i + 1) * size)]
    let end = slice.firstIndex(of: 0) ?? slice.endIndex
    var text = String(decoding: slice[slice.startIndex..<end], as: UTF8.self)
    if spacePadded {
      while text.hasSuffix(" ") { text.removeLast() }
    }
    return text
  }
}
