import ArgumentParser
import TensorCore

/// `grape bench`: throughput figures as JSON lines.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure speed; prints one JSON object per line.",
    subcommands: [BenchOps.self])
}

/// `grape bench ops`: sgemm ceiling and convolution GFLOP/s at the cpu preset's shapes.
struct BenchOps: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ops", abstract: "sgemm ceiling and conv2d forward / forward+backward GFLOP/s.")

  @Option(help: "Timed repetitions per figure (the median is reported).")
  var repeats: Int = 5

  func validate() throws {
    guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
  }

  func run() throws {
    for record in OpBenchmarks.run(repeats: repeats) { print(record.jsonLine) }
  }
}
