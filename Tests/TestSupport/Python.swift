import Foundation

/// Runs short Python scripts for cross-checks against h5py, anndata and safetensors. Tests that
/// need them are enabled with `.enabled(if: Python.available([...]), "…")`, so a missing module
/// shows as a skipped test with its reason; `make test` installs them (scripts/install-test-deps.sh).
public enum Python {
  /// Whether `python3` can import every module in `modules`.
  public static func available(_ modules: [String]) -> Bool {
    (try? run("import " + modules.joined(separator: ", "))) != nil
  }

  /// Runs `script` with `arguments` and returns its standard output; throws when it fails.
  public static func run(_ script: String, arguments: [String] = []) throws -> String {
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

  public struct PythonError: Error, CustomStringConvertible {
    let message: String
    public var description: String { message }
  }
}
