import ArgumentParser
import Foundation

/// Runs a command body, turning any error into one line on stderr (`grape <command>: error: …`)
/// and a non-zero exit, instead of a stack trace or ArgumentParser's usage text.
func reportingErrors(_ command: String, _ body: () throws -> Void) throws {
  do {
    try body()
  } catch let e as ExitCode {
    throw e
  } catch let e as CleanExit {
    throw e
  } catch {
    FileHandle.standardError.write(Data("grape \(command): error: \(error)\n".utf8))
    throw ExitCode.failure
  }
}

/// Writes a line to stderr.
func note(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Whether standard output is a terminal (progress redraws one line) or a file or pipe
/// (progress prints plain periodic lines).
var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }

/// "1h 02m", "3m 07s", "42s".
func formatDuration(_ seconds: Double) -> String {
  guard seconds.isFinite, seconds >= 0 else { return "?" }
  let s = Int(seconds.rounded())
  if s >= 3600 { return String(format: "%dh %02dm", s / 3600, (s % 3600) / 60) }
  if s >= 60 { return String(format: "%dm %02ds", s / 60, s % 60) }
  return "\(s)s"
}
