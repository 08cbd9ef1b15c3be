import Foundation

/// Periodic one-line progress reports for long passes: count, rate and time left.
///
/// Lines go to the given sink (the command line prints them to stderr) at most every
/// `interval` seconds, plus one line when a pass ends. Safe to advance from several threads.
final class ProgressReporter: @unchecked Sendable {
  private let sink: @Sendable (String) -> Void
  private let interval: Double
  // Invariant: the fields below are accessed with `lock` held.
  private let lock = NSLock()
  private var label = ""
  private var unit = ""
  private var total = 0
  private var done = 0
  private var started = Date()
  private var lastReport = Date()

  init(interval: Double = 2, sink: @escaping @Sendable (String) -> Void) {
    self.interval = interval
    self.sink = sink
  }

  /// Starts a pass of `total` items.
  func begin(_ label: String, total: Int, unit: String) {
    lock.lock()
    self.label = label
    self.unit = unit
    self.total = total
    done = 0
    started = Date()
    lastReport = started
    lock.unlock()
  }

  /// Counts `items` more items and reports if the interval has passed.
  func advance(_ items: Int) {
    lock.lock()
    done += items
    let now = Date()
    guard now.timeIntervalSince(lastReport) >= interval else {
      lock.unlock()
      return
    }
    lastReport = now
    let elapsed = now.timeIntervalSince(started)
    let rate = elapsed > 0 ? Double(done) / elapsed : 0
    let left = rate > 0 ? Double(total - done) / rate : 0
    let percent = total > 0 ? 100 * done / total : 100
    let line =
      "\(label): \(done)/\(total) \(unit) (\(percent)%), \(Int(rate.rounded())) \(unit)/s, \(Int(left.rounded())) s left"
    lock.unlock()
    sink(line)
  }

  /// Reports the end of the pass.
  func end() {
    lock.lock()
    let elapsed = Date().timeIntervalSince(started)
    let line = "\(label): \(done) \(unit) in \(String(format: "%.1f", elapsed)) s"
    lock.unlock()
    sink(line)
  }

  /// Reports a free-form line.
  func note(_ line: String) { sink(line) }
}
