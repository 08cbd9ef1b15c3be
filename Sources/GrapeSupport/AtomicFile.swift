import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file that could not be written; the message names the file and the cause.
public struct FileWriteError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file that was being written.
  public let path: String
  /// What went wrong, in words.
  public let reason: String

  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  public var description: String { "\(path): \(reason)" }
}

/// Writes files so that readers see either the previous complete file or the new complete one.
///
/// The bytes go to a hidden temporary name in the same folder, are flushed to disk (`fsync`), and
/// the temporary file is renamed over the destination (`rename(2)` is atomic within a file
/// system); the folder is synced too, so the rename survives a crash. A failed write removes the
/// temporary file and leaves the previous file untouched. Writers that go through a C library
/// (HDF5, libtiff) use `temporaryPath(beside:)` and `moveIntoPlace(_:as:)` for the same guarantee.
public enum AtomicFile {
  /// Writes `data` to `path` atomically.
  public static func write(_ data: Data, to path: String) throws(FileWriteError) {
    let temporary = try temporaryPath(beside: path)
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else { throw FileWriteError(path: path, reason: "cannot create a file here: \(errnoText())") }
    var committed = false
    defer { if !committed { unlink(temporary) } }
    let written: Bool = data.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count, let base = raw.baseAddress {
        let n = Glibc.write(fd, base + offset, raw.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          return false
        }
        offset += n
      }
      return true
    }
    if !written {
      let reason = errnoText()
      close(fd)
      throw FileWriteError(path: path, reason: "write failed: \(reason)")
    }
    if fsync(fd) != 0 {
      let reason = errnoText()
      close(fd)
      throw FileWriteError(path: path, reason: "fsync failed: \(reason)")
    }
    close(fd)
    try moveIntoPlace(temporary, as: path)
    committed = true
  }

  /// Writes `text` as UTF-8 to `path` atomically.
  public static func write(_ text: String, to path: String) throws(FileWriteError) {
    try write(Data(text.utf8), to: path)
  }

  /// A fresh hidden name in the folder of `path` (`.NAME.tmp-PID-RANDOM`) for a file that will be
  /// renamed to `path` when complete.
  ///
  /// - Throws: when the folder of `path` does not exist.
  public static func temporaryPath(beside path: String) throws(FileWriteError) -> String {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw FileWriteError(path: path, reason: "folder '\(folder)' does not exist")
    }
    removeStaleTemporaries(beside: path)
    let stamp = UInt32.random(in: 0...UInt32.max)
    return "\(folder)/.\(url.lastPathComponent).tmp-\(getpid())-\(stamp)"
  }

  /// Removes the temporary files of `path` (``temporaryPath(beside:)``) that processes no longer
  /// running left behind when they were killed. A file whose process id is alive (or reused by
  /// another process) is kept.
  public static func removeStaleTemporaries(beside path: String) {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    let prefix = ".\(url.lastPathComponent).tmp-"
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
    for name in names where name.hasPrefix(prefix) {
      guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0, pid != getpid() else { continue }
      if kill(pid, 0) == -1 && errno == ESRCH { unlink("\(folder)/\(name)") }
    }
  }

  /// Renames the finished file `temporary` to `path` and syncs the folder; on failure the
  /// temporary file is removed.
  public static func moveIntoPlace(_ temporary: String, as path: String) throws(FileWriteError) {
    guard rename(temporary, path) == 0 else {
      let reason = errnoText()
      unlink(temporary)
      throw FileWriteError(path: path, reason: "cannot move the finished file into place: \(reason)")
    }
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    let dfd = open(folder.isEmpty ? "." : folder, O_RDONLY)
    if dfd >= 0 {
      fsync(dfd)
      close(dfd)
    }
  }

  private static func errnoText() -> String { String(cString: strerror(errno)) }
}
