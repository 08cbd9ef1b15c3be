import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Writes files so that readers see either the old complete file or the new complete file.
///
/// The bytes go to a temporary name in the same folder, are flushed to disk (`fsync`), and the
/// temporary file is renamed over the destination; the folder is synced too, so the rename
/// survives a crash. An interrupted write leaves the previous file untouched.
public enum AtomicFile {
  /// Writes `data` to `path` atomically.
  public static func write(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent().path
    let tmp = "\(dir)/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw SerializationError.io(path: path, reason: "cannot create \(tmp): \(errnoText())") }
    var ok = false
    defer {
      if !ok { unlink(tmp) }
    }
    try data.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          close(fd)
          throw SerializationError.io(path: path, reason: "write failed: \(errnoText())")
        }
        offset += n
      }
    }
    if fsync(fd) != 0 {
      close(fd)
      throw SerializationError.io(path: path, reason: "fsync failed: \(errnoText())")
    }
    close(fd)
    guard rename(tmp, path) == 0 else { throw SerializationError.io(path: path, reason: "rename failed: \(errnoText())") }
    ok = true
    let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
    if dfd >= 0 {
      fsync(dfd)
      close(dfd)
    }
  }

  /// Writes a UTF-8 string atomically.
  public static func write(_ text: String, to path: String) throws {
    try write(Data(text.utf8), to: path)
  }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// Errors reading or writing model files.
public enum SerializationError: Error, CustomStringConvertible, Equatable {
  /// The operating system refused a read or write.
  case io(path: String, reason: String)
  /// The file is not a valid safetensors file.
  case malformed(path: String, reason: String)
  /// A tensor has a data type this toolkit cannot convert.
  case unsupportedDType(path: String, tensor: String, dtype: String)

  public var description: String {
    switch self {
    case .io(let p, let r): return "\(p): \(r)"
    case .malformed(let p, let r): return "\(p): not a valid safetensors file (\(r))"
    case .unsupportedDType(let p, let t, let d): return "\(p): tensor '\(t)' has unsupported dtype \(d)"
    }
  }
}
