import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A folder that could not be made, with the reason in words (not a Foundation error code).
public struct FolderError: Error, CustomStringConvertible, Equatable, Sendable {
  public let path: String
  public let reason: String
  public var description: String { "\(path): \(reason)" }

  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }
}

/// Making output folders with errors that say what is in the way.
public enum Folder {
  /// Creates `path` and any missing parents; an existing folder is fine.
  /// - Throws: ``FolderError`` naming the file that stands where a folder is needed, or the
  ///   system's reason (permission denied, read-only file system, …).
  public static func create(_ path: String) throws(FolderError) {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
      guard isFolder.boolValue else { throw FolderError(path: path, reason: "is a file, not a folder") }
      return
    }
    // The nearest existing ancestor must be a folder.
    var ancestor = URL(fileURLWithPath: path).deletingLastPathComponent()
    while ancestor.path != "/" && !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isFolder) {
      ancestor = ancestor.deletingLastPathComponent()
    }
    if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isFolder), !isFolder.boolValue {
      throw FolderError(path: path, reason: "cannot create the folder: \(ancestor.path) is a file")
    }
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
      throw FolderError(path: path, reason: "cannot create the folder (\(Self.reason(error as NSError)))")
    }
  }

  /// The reason of a file-system error in words: the POSIX one when Foundation wraps it.
  static func reason(_ error: NSError) -> String {
    if let posix = error.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(posix.code))).lowercased()
    }
    switch error.code {
    case CocoaError.fileWriteNoPermission.rawValue: return "permission denied"
    case CocoaError.fileWriteVolumeReadOnly.rawValue: return "read-only file system"
    case CocoaError.fileWriteOutOfSpace.rawValue: return "no space left on the device"
    case CocoaError.fileNoSuchFile.rawValue, CocoaError.fileWriteUnknown.rawValue: return "the system does not allow a folder there"
    default: return error.localizedDescription
    }
  }
}
