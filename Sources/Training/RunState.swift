import GrapeSupport
import Foundation
import Synchronization
import TensorCore

/// What a trainer saves as `state.json` in each checkpoint beside the weights: the step, the
/// random generator, the sampler's state and the training time so far. With the weights and the
/// optimiser state it makes `--resume` continue exactly.
public struct RunState: Codable, Sendable {
  public var step: Int
  public var rng: RandomGenerator
  /// The sampler's own JSON (``TrainingSampler/state()``), as text.
  public var sampler: String
  public var elapsedSeconds: Double

  public init(step: Int, rng: RandomGenerator, sampler: String, elapsedSeconds: Double) {
    self.step = step
    self.rng = rng
    self.sampler = sampler
    self.elapsedSeconds = elapsedSeconds
  }

  /// Pretty-printed JSON with sorted keys.
  public func jsonData() throws -> Data {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try enc.encode(self)
  }

  /// Reads `state.json` of checkpoint folder `dir`.
  public static func read(checkpoint dir: String) throws -> RunState {
    let path = "\(dir)/state.json"
    guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError.invalidRun(path: path, reason: "missing") }
    do {
      return try JSONDecoder().decode(RunState.self, from: data)
    } catch {
      throw TrainingError.invalidRun(path: path, reason: "unreadable (\(error))")
    }
  }
}

/// A flag set from a signal handler (Ctrl-C) and read by a training loop, which then writes a
/// checkpoint and returns.
public final class StopFlag: Sendable {
  private let value = Atomic<Int>(0)
  public init() {}
  public func set() { value.store(1, ordering: .relaxed) }
  public var isSet: Bool { value.load(ordering: .relaxed) != 0 }
}

/// Items (images, cells) per second since the last reading, for progress lines.
public struct ThroughputWindow {
  private var start = monotonicSeconds()
  private var items = 0

  public init() {}

  /// Counts `n` more items.
  public mutating func add(_ n: Int) { items += n }

  /// Leaves `seconds` (spent on something else, a validation say) out of the current window.
  public mutating func exclude(_ seconds: Double) { start += seconds }

  /// The rate since the last reading; starts a new window.
  public mutating func rate() -> Double {
    let now = monotonicSeconds()
    defer { (start, items) = (now, 0) }
    return Double(items) / max(now - start, 1e-9)
  }
}
