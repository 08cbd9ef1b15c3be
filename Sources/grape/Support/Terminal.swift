import ArgumentParser
import Foundation

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
