import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes files so that a failure never leaves a half-written output: the bytes go to a temporary
/// name in the same folder, which is then renamed over the target (`rename(2)` is atomic within a
/// file system).
enum AtomicFile {
  /// Writes `text` (UTF-8) to `url` atomically.
  static func write(_ text: String, to url: URL) throws {
    try write(Data(text.utf8), to: url)
  }

  /// Writes `data` to `url` atomically.
  static func write(_ data: Data, to url: URL) throws {
    let folder = url.deletingLastPathComponent()
    let stamp = DispatchTime.now().uptimeNanoseconds
    let temporary = folder.appendingPathComponent(
      ".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(stamp)")
    do {
      try data.write(to: temporary)
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw EvaluationError.writeFailed(path: url.path, reason: "\(error.localizedDescription)")
    }
    if rename(temporary.path, url.path) != 0 {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temporary)
      throw EvaluationError.writeFailed(path: url.path, reason: reason)
    }
  }

  /// Creates `url` and its parents as folders if needed.
  static func makeDirectory(_ url: URL) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
      if !isDirectory.boolValue {
        throw EvaluationError.writeFailed(path: url.path, reason: "exists and is not a folder")
      }
      return
    }
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw EvaluationError.writeFailed(path: url.path, reason: "\(error.localizedDescription)")
    }
  }
}
