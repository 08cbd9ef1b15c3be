import CHDF5
import Foundation

/// Process-wide access to the HDF5 C library: one lock around every call, silenced automatic
/// error printing, and the error stack turned into text.
///
/// HDF5's serial build is not reentrant, and its error stack and automatic printing are kept per
/// thread; every call from this module therefore goes through ``sync(_:)``, which takes the lock and
/// turns automatic printing off for the calling thread before running the body.
enum HDF5Library {
  /// The lock that serialises all calls into HDF5 (recursive: wrapper methods nest).
  static let lock = NSRecursiveLock()

  /// Runs `body` while holding the HDF5 lock, with automatic error printing off on this thread.
  static func sync<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    _ = H5Eset_auto2(0, nil, nil)
    return try body()
  }

  /// The most specific message on the current thread's HDF5 error stack, then clears the stack.
  static func takeErrorMessage() -> String {
    final class Messages { var items: [String] = [] }
    let box = Messages()
    let unmanaged = Unmanaged.passRetained(box)
    defer { unmanaged.release() }
    _ = H5Ewalk2(
      0, H5E_WALK_UPWARD,
      { _, desc, client in
        guard let desc, let client else { return 0 }
        let box = Unmanaged<AnyObject>.fromOpaque(client).takeUnretainedValue()
        if let messages = box as? Messages, let text = desc.pointee.desc {
          messages.items.append(String(cString: text))
        }
        return 0
      }, unmanaged.toOpaque())
    _ = H5Eclear2(0)
    // Upward order starts at the most specific error; the last one is the API-level summary.
    guard let first = box.items.first else { return "" }
    if let last = box.items.last, last != first, box.items.count > 1 {
      return "\(last): \(first)"
    }
    return first
  }

  /// Throws an ``OPSDataError/hdf5(path:object:operation:detail:)`` when `status` is negative.
  @discardableResult
  static func check<T: BinaryInteger>(
    _ status: T, path: String, object: String, _ operation: @autoclosure () -> String
  ) throws(OPSDataError) -> T {
    if status < 0 {
      throw OPSDataError.hdf5(
        path: path, object: object, operation: operation(), detail: takeErrorMessage())
    }
    return status
  }
}

/// An owned HDF5 identifier that is closed exactly once: explicitly, when its file closes, or on
/// deinitialisation.
final class HDF5Handle: @unchecked Sendable {
  /// The kinds of identifiers, each with its own close function.
  enum Kind { case file, group, dataset, attribute, dataspace, datatype, propertyList, object }

  // Invariant: `id` is read and written only while holding `HDF5Library.lock`.
  private(set) var id: hid_t
  let kind: Kind

  init(_ id: hid_t, kind: Kind) {
    self.id = id
    self.kind = kind
  }

  /// Whether the identifier is still open.
  var isOpen: Bool { id >= 0 }

  /// Closes the identifier if it is open (call with the lock held).
  func close() {
    guard id >= 0 else { return }
    switch kind {
    case .file: _ = H5Fclose(id)
    case .group: _ = H5Gclose(id)
    case .dataset: _ = H5Dclose(id)
    case .attribute: _ = H5Aclose(id)
    case .dataspace: _ = H5Sclose(id)
    case .datatype: _ = H5Tclose(id)
    case .propertyList: _ = H5Pclose(id)
    case .object: _ = H5Oclose(id)
    }
    id = -1
  }

  /// Forgets the identifier after it was closed by other means (call with the lock held).
  func markClosed() { id = -1 }

  deinit {
    if id >= 0 { HDF5Library.sync { close() } }
  }
}

/// A temporary identifier (dataspace, datatype, property list) closed when the scope ends.
struct ScopedID: ~Copyable {
  let id: hid_t
  let kind: HDF5Handle.Kind
  init(_ id: hid_t, _ kind: HDF5Handle.Kind) {
    self.id = id
    self.kind = kind
  }
  deinit {
    guard id >= 0 else { return }
    switch kind {
    case .dataspace: _ = H5Sclose(id)
    case .datatype: _ = H5Tclose(id)
    case .propertyList: _ = H5Pclose(id)
    case .attribute: _ = H5Aclose(id)
    case .dataset: _ = H5Dclose(id)
    case .group: _ = H5Gclose(id)
    case .object: _ = H5Oclose(id)
    case .file: _ = H5Fclose(id)
    }
  }
}
