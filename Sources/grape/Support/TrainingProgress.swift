import Foundation
import GrapeSupport
import Training

/// Prints a training loop's progress: a redrawn line on a terminal, a plain line every 10 s
/// otherwise (a log file), and one line per checkpoint.
final class TrainingProgress<Losses> {
  let terminal: Bool
  let unit: String
  let rateDigits: Int
  let describe: (Losses) -> String
  private var lastPlain = 0.0

  /// - Parameters:
  ///   - unit: what the rate counts ("img/s", "cells/s").
  ///   - rateDigits: decimals of the rate.
  ///   - describe: the losses worth showing, as text.
  init(terminal: Bool = stdoutIsTerminal, unit: String, rateDigits: Int, describe: @escaping (Losses) -> String) {
    self.terminal = terminal
    self.unit = unit
    self.rateDigits = rateDigits
    self.describe = describe
  }

  func show(_ event: TrainingEvent<Losses>) {
    switch event {
    case .step(let step, let total, let rate, let left, let losses):
      let detail = describe(losses)
      let line = "step \(step)/\(total)  \(String(format: "%.\(rateDigits)f", rate)) \(unit)  left \(formatDuration(left))" + (detail.isEmpty ? "" : "  \(detail)")
      if terminal {
        print("\r\u{1B}[2K" + line, terminator: "")
        fflush(nil)
      } else {
        let now = monotonicSeconds()
        if now - lastPlain >= 10 || step == total {
          print(line)
          fflush(nil)
          lastPlain = now
        }
      }
    case .checkpoint(let step, let path):
      if terminal { print("") }
      print("checkpoint at step \(step): \(path)")
    }
  }

  /// Ends a redrawn line.
  func finish() { if terminal { print("") } }
}
