import Foundation

/// A fresh, uniquely named directory under the system's temporary folder, removed on `remove()`.
///
/// Tests run in parallel under Swift Testing, so each test makes its own directory rather than
/// sharing one.
public struct TemporaryDirectory: Sendable {
  /// The directory's URL.
  public let url: URL

  /// Creates a new empty directory whose name starts with `prefix`.
  public init(prefix: String = "grape-test") throws {
    let name = "\(prefix)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
    url = FileManager.default.temporaryDirectory.appendingPathComponent(name, isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// The path of `name` inside the directory.
  public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  /// Removes the directory and everything in it.
  public func remove() { try? FileManager.default.removeItem(at: url) }
}
