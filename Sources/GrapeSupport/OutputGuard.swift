import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The kinds of file the toolkit writes, told apart by their leading bytes.
public enum FileKind: String, Sendable, CaseIterable {
  case hdf5 = "an HDF5 file"
  case png = "a PNG image"
  case tiff = "a TIFF image"
  case text = "a text file"

  /// The kind an output of this extension is written as (.h5, .h5ad → HDF5; .png; .tif/.tiff;
  /// .tsv/.csv/.json/.md → text); nil for other extensions.
  public init?(extensionOf path: String) {
    switch (path as NSString).pathExtension.lowercased() {
    case "h5", "h5ad", "hdf5": self = .hdf5
    case "png": self = .png
    case "tif", "tiff": self = .tiff
    case "tsv", "csv", "txt", "json", "md": self = .text
    default: return nil
    }
  }

  /// The kind of the file at `path` judged by its first bytes; nil when it cannot be read or is
  /// none of these (text means: no NUL byte in the first 512 bytes).
  public static func sniff(_ path: String) -> FileKind? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    let head = [UInt8](handle.readData(ofLength: 512))
    if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return .hdf5 }
    if head.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return .png }
    if head.starts(with: [0x49, 0x49, 0x2A, 0x00]) || head.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
      || head.starts(with: [0x49, 0x49, 0x2B, 0x00]) || head.starts(with: [0x4D, 0x4D, 0x00, 0x2B])
    {
      return .tiff
    }
    return head.contains(0) ? nil : .text
  }
}

/// A refused output path: it is one of the command's inputs, or an existing file of another kind.
public struct OutputRefused: Error, CustomStringConvertible, Equatable, Sendable {
  public let description: String

  public init(description: String) { self.description = description }
}

/// Checks made before a command writes its output, so that a mistyped path never destroys data.
///
/// Outputs are written to a temporary name and renamed (``AtomicFile``), so a rename onto an
/// input would silently replace it: `grape encode --data s.h5 --out s.h5` would turn the cell
/// store into its codes. These checks refuse that before any work is done.
public enum OutputGuard {
  /// Whether `a` and `b` name the same existing file (after symbolic links, and across hard links).
  public static func sameFile(_ a: String, _ b: String) -> Bool {
    var sa = stat(), sb = stat()
    guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
  }

  /// Throws when `output` (given as `flag`) is one of `inputs` (each given as its flag), or when
  /// it exists and is not a file of the kind the command writes there (`writes`, or else the kind
  /// its extension names), unless `force`; a folder is refused always. Nothing is written or removed.
  public static func check(
    output: String, flag: String, writes: FileKind? = nil, inputs: [(flag: String, path: String)], force: Bool = false
  ) throws {
    for input in inputs where sameFile(output, input.path) {
      throw OutputRefused(description: "\(flag) \(output) is the input \(input.flag) \(input.path): choose another output path")
    }
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) else { return }
    if isFolder.boolValue { throw OutputRefused(description: "\(flag) \(output) is a folder: give a file path") }
    guard !force, let expected = writes ?? FileKind(extensionOf: output) else { return }
    let found = FileKind.sniff(output)
    if found != expected {
      throw OutputRefused(
        description: "\(flag) \(output) exists and is \(found?.rawValue ?? "not a file this command writes"), not \(expected.rawValue): "
          + "choose another path, or pass --force to replace it")
    }
  }
}
