import ArgumentParser
import Foundation

/// Shared command-line plumbing: error lines on stderr and exit codes.
enum CLISupport {
  /// Writes `line` and a newline to standard error.
  static func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  /// Runs `body`; any error is printed as one `error: …` line and turned into exit status 1.
  static func run(_ body: () throws -> Void) throws {
    do {
      try body()
    } catch let exit as ExitCode {
      throw exit
    } catch let error as CleanExit {
      throw error
    } catch {
      printError("error: \(error)")
      throw ExitCode.failure
    }
  }

  /// Splits a comma-separated list, trimming spaces and dropping empty items.
  static func list(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
      !$0.isEmpty
    }
  }
}
