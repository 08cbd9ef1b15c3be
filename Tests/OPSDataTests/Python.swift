import Foundation

/// Runs short Python scripts for cross-checks against h5py/anndata; tests using it are skipped
/// when Python or the modules are missing.
enum Python {
  /// Whether `python3` can import every module in `modules`.
  static func available(_ modules: [String]) -> Bool {
    (try? run("import " + modules.joined(separator: ", "))) != nil
  }

  /// Runs `script` with `arguments` and returns its standard output; throws when it fails.
  static func run(_ script: String, arguments: [String] = []) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-W", "ignore", "-c", script] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw PythonError(message: String(decoding: errorData, as: UTF8.self))
    }
    return String(decoding: data, as: UTF8.self)
  }

  struct PythonError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
  }
}
