import ArgumentParser
import ABRA
import Evaluation
import GRAPE
import TensorCore

/// `grape bench`: throughput figures as JSON lines.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure speed; prints one JSON object per line.",
    subcommands: [BenchOps.self, BenchTrain.self, BenchEvaluate.self])
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

/// `grape bench train`: full training iterations of a preset on random data.
struct BenchTrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train", abstract: "Images/s, time split, GFLOP/s and peak memory of full GRAPE iterations.")

  @Option(help: "Network preset: \(GRAPEPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
  var preset: GRAPEPreset = .cpu

  @Option(help: "Timed iterations.")
  var steps: Int = 10

  @Option(help: "Untimed warm-up iterations.")
  var warmup: Int = 2

  @Option(help: "Mini-batch size (default: the preset's).")
  var batch: Int?

  @Option(help: "Number of genes (discriminator heads, embedding rows).")
  var genes: Int = 106

  @Flag(help: "Include the ABRA regulariser of the style encoder.")
  var abra = false

  @Option(help: "R1 on every k-th D step only (lazy R1, the config key r1_every).")
  var r1Every: Int?

  @Option(help: "The cycle term on every k-th G step only (the config key cycle_every).")
  var cycleEvery: Int?

  func validate() throws {
    for (flag, value) in [("--r1-every", r1Every), ("--cycle-every", cycleEvery)] {
      if let k = value { guard k >= 1 else { throw ValidationError("\(flag) must be at least 1, got \(k)") } }
    }
    guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
    guard warmup >= 0 else { throw ValidationError("--warmup must be ≥ 0, got \(warmup)") }
    if let batch { guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") } }
    guard genes >= 2 else { throw ValidationError("--genes must be at least 2, got \(genes)") }
  }

  func run() throws {
    let regularizer: ((GRAPEConfig) throws -> StyleEncoderRegularizer)? = abra ? { try ABRAStyleRegularizer(config: $0) } : nil
    for r in try TrainBenchmark.run(preset: preset, steps: steps, warmup: warmup, genes: genes, batchSize: batch, r1Every: r1Every, cycleEvery: cycleEvery,
      regularizer: regularizer) {
      print(r.jsonLine)
    }
  }
}

/// `grape bench evaluate`: k-means with restarts and batch metrics (compare with scikit-learn:
/// scripts/reference/eval_bench_sklearn.py).
struct BenchEvaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate", abstract: "k-means (100 restarts, 105 × 500) and batch metrics (100,000 cells × 64) timings.")

  @Option(help: "k-means restarts.")
  var restarts: Int = 100

  @Option(help: "Cells of the batch-metric benchmark.")
  var cells: Int = 100_000

  func run() throws {
    var settings = EvaluationBenchmark.Settings()
    settings.restarts = restarts
    settings.cells = cells
    _ = EvaluationBenchmark.run(settings) { print($0.jsonLine()) }
  }
}
