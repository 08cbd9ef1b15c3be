import Foundation

/// Locates files shipped in the repository's `Data/` folder: relative to the working directory,
/// then relative to the executable (`.build/<config>/grape` inside a checkout).
enum DataFiles {
  /// The default CORUM complexes table, or nil when it cannot be found.
  static var defaultComplexes: String? { find("corum_complexes.tsv") }

  static func find(_ name: String) -> String? {
    var candidates = ["Data/\(name)"]
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    var dir = exe
    for _ in 0..<5 {
      candidates.append(dir.appendingPathComponent("Data/\(name)").path)
      dir = dir.deletingLastPathComponent()
    }
    return candidates.first { FileManager.default.fileExists(atPath: $0) }
  }
}
