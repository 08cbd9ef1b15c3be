import CHDF5
import Foundation
import GrapeSupport

/// An open HDF5 file.
///
/// Open existing files with ``open(_:writable:)``. New files are made with ``create(_:)``: they
/// are written under a temporary name in the same folder and appear under their real name only when
/// ``commit()`` succeeds, so a failure never leaves a half-written file behind. Every failing HDF5
/// call becomes an ``OPSDataError`` naming the file and object.
///
/// ```swift
/// let file = try HDF5File.create("out.h5")
/// try file.root.write("values", [1, 2, 3] as [Float], shape: [3])
/// try file.commit()
/// ```
///
/// The class is safe to use from several threads: every call into HDF5 is serialised.
public final class HDF5File: @unchecked Sendable {
  /// The file's path (for created files, the name it receives on ``commit()``).
  public let path: String
  /// Whether the file accepts writes.
  public let isWritable: Bool

  // Invariants: all mutable state is accessed with `HDF5Library.lock` held.
  let handle: HDF5Handle
  private var temporaryPath: String?
  private var children: [WeakHandle] = []

  private struct WeakHandle {
    weak var handle: HDF5Handle?
  }

  private init(path: String, writable: Bool, id: hid_t, temporaryPath: String?) {
    self.path = path
    self.isWritable = writable
    self.handle = HDF5Handle(id, kind: .file)
    self.temporaryPath = temporaryPath
  }

  /// Opens an existing HDF5 file, read-only unless `writable`.
  ///
  /// - Throws: ``OPSDataError/fileNotFound(path:)`` when there is no such file, or
  ///   ``OPSDataError/hdf5(path:object:operation:detail:)`` when it is not a readable HDF5 file.
  public static func open(_ path: String, writable: Bool = false) throws -> HDF5File {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw OPSDataError.fileNotFound(path: path)
    }
    if isDirectory.boolValue {
      throw OPSDataError.io(path: path, message: "is a directory, expected an HDF5 file")
    }
    return try HDF5Library.sync {
      if H5Fis_hdf5(path) <= 0 {
        _ = HDF5Library.takeErrorMessage()
        throw OPSDataError.hdf5(
          path: path, object: "", operation: "open", detail: "not an HDF5 file")
      }
      let flags = writable ? grape_h5f_acc_rdwr() : grape_h5f_acc_rdonly()
      let fapl = ScopedID(H5Pcreate(grape_h5p_file_access()), .propertyList)
      try HDF5Library.check(fapl.id, path: path, object: "", "create file-access properties")
      try disableFileLocking(fapl.id, path: path)
      let id = H5Fopen(path, flags, fapl.id)
      try HDF5Library.check(id, path: path, object: "", "open")
      return HDF5File(path: path, writable: writable, id: id, temporaryPath: nil)
    }
  }

  /// Creates a new, empty HDF5 file that takes the name `path` on ``commit()``.
  ///
  /// Until then the data lives in a hidden temporary file in the same folder, which is removed if
  /// the file is closed or deinitialised without a commit.
  public static func create(_ path: String) throws -> HDF5File {
    let temporary: String
    do { temporary = try AtomicFile.temporaryPath(beside: path) } catch {
      throw OPSDataError.io(path: path, message: error.reason)
    }
    return try HDF5Library.sync {
      let fapl = ScopedID(H5Pcreate(grape_h5p_file_access()), .propertyList)
      try HDF5Library.check(fapl.id, path: path, object: "", "create file-access properties")
      // A created file has a unique temporary name, so closing it may close all its objects.
      try HDF5Library.check(
        H5Pset_fclose_degree(fapl.id, H5F_CLOSE_STRONG), path: path, object: "", "set close degree")
      try disableFileLocking(fapl.id, path: path)
      let id = H5Fcreate(temporary, grape_h5f_acc_excl(), 0, fapl.id)
      try HDF5Library.check(id, path: path, object: "", "create")
      return HDF5File(path: path, writable: true, id: id, temporaryPath: temporary)
    }
  }

  deinit {
    HDF5Library.sync { closeLocked(discard: true) }
  }

  /// The root group `/`.
  public var root: HDF5Group {
    get throws { try group("/") }
  }

  /// Opens the group at `path` (absolute, or relative to the root).
  public func group(_ path: String) throws -> HDF5Group {
    try HDF5Library.sync {
      try requireOpen(path)
      let id = H5Gopen2(handle.id, path, 0)
      try HDF5Library.check(id, path: self.path, object: path, "open group")
      return HDF5Group(file: self, name: absolute(path), id: id)
    }
  }

  /// Opens the dataset at `path` (absolute, or relative to the root).
  public func dataset(_ path: String) throws -> HDF5Dataset {
    try root.dataset(path)
  }

  /// Whether a group or dataset exists at `path`; intermediate groups may be missing.
  public func contains(_ path: String) -> Bool {
    (try? root.contains(path)) ?? false
  }

  /// Writes buffered data to disk without closing the file.
  public func flush() throws {
    try HDF5Library.sync {
      try requireOpen("")
      try HDF5Library.check(H5Fflush(handle.id, H5F_SCOPE_GLOBAL), path: path, object: "", "flush")
    }
  }

  /// Closes a created file and moves it to its final name.
  ///
  /// - Throws: when the file was opened rather than created, is already closed, or cannot be
  ///   closed or renamed (the temporary file is then removed).
  public func commit() throws {
    try HDF5Library.sync {
      guard let temporary = temporaryPath else {
        throw OPSDataError.io(path: path, message: "commit() called on a file that was not created")
      }
      try requireOpen("")
      closeChildren()
      let status = H5Fclose(handle.id)
      if status >= 0 { handle.markClosed() } else { handle.close() }
      temporaryPath = nil
      if status < 0 {
        let detail = HDF5Library.takeErrorMessage()
        _ = unlink(temporary)
        throw OPSDataError.hdf5(path: path, object: "", operation: "close", detail: detail)
      }
      do throws(FileWriteError) { try AtomicFile.moveIntoPlace(temporary, as: path) } catch {
        throw OPSDataError.io(path: path, message: error.reason)
      }
    }
  }

  /// Closes the file; a created file that was never committed is deleted.
  public func close() {
    HDF5Library.sync { closeLocked(discard: true) }
  }

  /// Whether the file is still open.
  public var isOpen: Bool { HDF5Library.sync { handle.isOpen } }

  // MARK: - Internal bookkeeping

  /// Turns off HDF5's advisory file locks (`flock`) for a file-access property list.
  ///
  /// HDF5 opens files without close-on-exec, so a child process started by any thread inherits the
  /// descriptor and with it the lock, which then makes later opens of the same file fail with
  /// "unable to lock file" for as long as the child runs. Created files have unique temporary
  /// names, and readers do not need the lock, so it is not used.
  private static func disableFileLocking(_ fapl: hid_t, path: String) throws {
    try HDF5Library.check(
      H5Pset_file_locking(fapl, false, true), path: path, object: "", "disable file locking")
  }

  /// Records a child object so that closing the file closes it first.
  func register(_ child: HDF5Handle) {
    if children.count > 64 && children.count % 64 == 0 {
      children.removeAll { $0.handle == nil }
    }
    children.append(WeakHandle(handle: child))
  }

  /// Throws when the file has been closed.
  func requireOpen(_ object: String) throws {
    if !handle.isOpen {
      throw OPSDataError.hdf5(
        path: path, object: object, operation: "access", detail: "file is closed")
    }
  }

  /// `path` made absolute within the file.
  func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : "/" + path
  }

  private func closeChildren() {
    for child in children { child.handle?.close() }
    children.removeAll()
  }

  private func closeLocked(discard: Bool) {
    closeChildren()
    handle.close()
    if discard, let temporary = temporaryPath {
      _ = unlink(temporary)
      temporaryPath = nil
    }
  }
}
