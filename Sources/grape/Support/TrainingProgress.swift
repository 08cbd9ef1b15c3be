import Foundation
import GrapeSupport
import Training

/// Prints a training loop's progress: a redrawn line on a terminal, a plain line every 10 s
/// otherwise (a log file), and one line per checkpoint. A validation's values (`val_map`) join
/// the line of their step, which is always printed, and the lines after it.
final class TrainingProgress<Losses> {
  let terminal: Bool
  let unit: String
  let rateDigits: Int
  let describe: (Losses) -> String
  private var lastPlain = 0.0
  /// Validations seen and the seconds they took.
  private(set) var validations = 0
  private(set) var validationSeconds = 0.0
  /// The newest validation: its step and values.
  private(set) var lastValidation: (step: Int, values: [String: Double])?

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
      var detail = describe(losses)
      // The newest validation stays on the lines after its step, as "val_map 0.412 (step 300)".
      let measured = lastValidation?.step == step
      if let v = lastValidation {
        let text = v.values.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value))" }.joined(separator: "  ") + (measured ? "" : " (step \(v.step))")
        detail = detail.isEmpty ? text : "\(detail)  \(text)"
      }
      let line = "step \(step)/\(total)  \(String(format: "%.\(rateDigits)f", rate)) \(unit)  left \(formatDuration(left))" + (detail.isEmpty ? "" : "  \(detail)")
      if terminal {
        print("\r\u{1B}[2K" + line, terminator: "")
        fflush(nil)
      } else {
        let now = monotonicSeconds()
        if now - lastPlain >= 10 || step == total || measured {
          print(line)
          fflush(nil)
          lastPlain = now
        }
      }
    case .checkpoint(let step, let path):
      if terminal { print("") }
      print("checkpoint at step \(step): \(path)")
    case .validation(let step, let values, let seconds):
      lastValidation = (step, values)
      validations += 1
      validationSeconds += seconds
    }
  }

  /// Ends a redrawn line.
  func finish() { if terminal { print("") } }
}
