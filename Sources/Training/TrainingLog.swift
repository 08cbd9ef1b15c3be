import GrapeSupport
import Foundation
import TensorCore

/// A run's `log.tsv`: a header (`step`, `time_s`, then one column per logged value) and one row
/// per logged step. Rows are appended as training goes; a resumed run first drops the rows after
/// its checkpoint, so that a resumed log reads as an uninterrupted one.
public struct TrainingLog {
  /// The file (`RunFolder.logPath`).
  public let path: String
  /// The columns after `step` and `time_s`.
  public let valueColumns: [String]

  public init(path: String, valueColumns: [String]) {
    self.path = path
    self.valueColumns = valueColumns
  }

  /// The header line (without its newline).
  public var header: String { (["step", "time_s"] + valueColumns).joined(separator: "\t") }

  /// Starts an empty log: the header only.
  public func start() throws {
    try AtomicFile.write(header + "\n", to: path)
  }

  /// Appends the row of `step`: the training time so far, then `values` in column order.
  public func append(step: Int, elapsedSeconds: Double, values: [Float]) throws {
    let row = ([String(step), String(format: "%.3f", elapsedSeconds)] + values.map { String(format: "%.6g", Double($0)) })
      .joined(separator: "\t") + "\n"
    guard let h = FileHandle(forWritingAtPath: path) else {
      throw TrainingError.invalidRun(path: path, reason: "cannot append to the log")
    }
    defer { try? h.close() }
    try h.seekToEnd()
    try h.write(contentsOf: Data(row.utf8))
  }

  /// Keeps the rows up to `step` (under a fresh header); a missing log becomes an empty one.
  ///
  /// Columns are matched by name: when the header has changed since the rows were written (a
  /// resumed run that now logs a validation column, say), each kept row is rewritten in the new
  /// column order, `nan` where it has no value for a column.
  public func truncate(after step: Int) throws {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    let oldColumns = lines.first.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) } ?? []
    let newColumns = ["step", "time_s"] + valueColumns
    let kept = lines.dropFirst().filter { line in
      Int(line.split(separator: "\t").first ?? "") ?? Int.max <= step
    }
    let rows = oldColumns == newColumns ? Array(kept) : kept.map { line in
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      var byName: [String: String] = [:]
      for (name, value) in zip(oldColumns, fields) where byName[name] == nil { byName[name] = value }
      return newColumns.map { byName[$0] ?? "nan" }.joined(separator: "\t")
    }
    try AtomicFile.write(([header] + rows).joined(separator: "\n") + "\n", to: path)
  }
}
