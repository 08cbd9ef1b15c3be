import Foundation

/// Paths of the files under `Tests/OPSDataTests/Fixtures` (copied into the test bundle).
enum Fixtures {
  /// The absolute path of `name` inside the fixtures folder.
  static func path(_ name: String) -> String {
    if let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) {
      return url.appendingPathComponent(name).path
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures").appendingPathComponent(name).path
  }
}
