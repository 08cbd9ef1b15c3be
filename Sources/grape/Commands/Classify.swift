import Training
import GrapeSupport
import ABRA
import ArgumentParser
import Dispatch
import Foundation
import GRAPE
import OPSData
import TensorCore

/// `grape classify`: ABRA's own task, classifying perturbations in batches never seen in training.
struct Classify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train and evaluate a perturbation classifier on held-out batches (ERM, DSU, AdvStyle, ABRA; AdaBN test-time adaptation).",
    subcommands: [ClassifyTrain.self, ClassifyEvaluate.self])
}

/// `grape classify train`.
struct ClassifyTrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train", abstract: "Train a small BatchNorm ResNet to predict each cell's gene, on every batch but the held-out ones.")

  @Option(help: "The cell store (HDF5).")
  var data: String

  @Option(name: .customLong("run"), help: "The run folder to create (or continue with --resume).")
  var runPath: String

  @Option(help: "\(ClassifierMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
  var method: ClassifierMethod = .abra

  @Option(name: .customLong("holdout-batches"), help: "Batch names held out of training, comma-separated (default: the last batch).")
  var holdoutBatches: String?

  @Option(help: "Training iterations (default: the method's).")
  var steps: Int?

  @Option(name: .customLong("batch-size"), help: "Cells per plate-consistent mini-batch.")
  var batchSize: Int?

  @Option(help: "Adam learning rate.")
  var lr: Float?

  @OptionGroup var seeding: SeedOption
  var seed: UInt64 { seeding.seed }

  @Option(help: "A JSON file whose fields override the classifier configuration (e.g. {\"abra_terms\": \"ce\", \"perturb_stage\": 2}).")
  var config: String?

  @Flag(help: "Continue from the newest checkpoint in --run.")
  var resume = false

  func validate() throws {
    if let config { guard FileManager.default.fileExists(atPath: config) else { throw ValidationError("--config \(config): no such file") } }
    if let steps { guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") } }
    if let batchSize { guard batchSize >= 2 else { throw ValidationError("--batch-size must be at least 2, got \(batchSize)") } }
    guard FileManager.default.fileExists(atPath: data) else { throw ValidationError("--data \(data): no such file") }
  }

  func run() throws {
    try CLISupport.run { try CLISupport.removingFailedRun(runPath, train) }
  }

  private func train() throws {
    let trainer = try ClassifierTrainer.prepare(
      ClassifierTrainingRequest(
        data: data, run: runPath, method: method, holdoutBatches: holdoutBatches.map(CLISupport.list), configFile: config, steps: steps,
        batchSize: batchSize, lr: lr, seed: seed, resume: resume))
    let cfg = trainer.config
    let interrupt = CLISupport.stopOnInterrupt(trainer.loop.stopFlag)
    note("training \(cfg.method.rawValue) on \(trainer.cellCount) cells (held out: \(cfg.holdoutBatches.joined(separator: ", "))), \(cfg.steps) steps → \(runPath)")
    let display = TrainingProgress<ClassifierLosses>(unit: "cells/s", rateDigits: 0) { _ in "" }
    let reached = try trainer.train { display.show($0) }
    display.finish()
    interrupt.cancel()
    print("trained to step \(reached); run folder: \(runPath)")
    if trainer.loop.stopRequested { throw CLISupport.interrupted }
  }
}

/// `grape classify evaluate`.
struct ClassifyEvaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate", abstract: "Accuracy on the held-out batches, without or with AdaBN test-time adaptation; writes DIR/metrics.json.")

  @Option(name: .customLong("run"), help: "The classifier's run folder.")
  var runPath: String

  @Option(help: "The cell store to evaluate (its held-out batches are used).")
  var data: String

  @Option(help: "Output folder for metrics.json.")
  var out: String

  @Flag(help: "Recompute BatchNorm statistics on each test mini-batch (AdaBN).")
  var tta = false

  @Option(name: .customLong("tta-batch"), help: "Cells per AdaBN test mini-batch.")
  var ttaBatch: Int = 64

  @OptionGroup var seeding: SeedOption
  var seed: UInt64 { seeding.seed }

  @Flag(name: .customLong("no-curve"), help: "Skip the accuracy-against-TTA-batch-size curve.")
  var noCurve = false

  @Option(name: .customLong("features-out"), help: "Also write per-gene mean penultimate features as an embedding (.h5, .tsv, .csv or .h5ad).")
  var featuresOut: String?

  @OptionGroup var overwrite: ForceOption

  func validate() throws {
    guard ttaBatch >= 2 else { throw ValidationError("--tta-batch must be at least 2, got \(ttaBatch)") }
    if let featuresOut { guard GeneEmbedding.FileFormat(path: featuresOut) != nil else { throw ValidationError("--features-out \(featuresOut): the extension must be .h5, .tsv, .csv or .h5ad") } }
  }

  func run() throws {
    try CLISupport.run {
      if let featuresOut {
        try OutputGuard.check(output: featuresOut, flag: "--features-out", inputs: [("--data", data)], force: overwrite.force)
      }
      let source = try StoreCellSource(path: data)
      let evaluator = try ClassifierEvaluator(run: RunFolder(path: runPath))
      let options = ClassifierEvaluationOptions(
        tta: tta, ttaBatch: ttaBatch, seed: seed, curveSizes: (tta && !noCurve) ? ClassifierEvaluationOptions.figure7Sizes : [])
      let metrics = try evaluator.evaluate(source: source, options: options)
      try Folder.create(out)
      let path = try metrics.write(toDirectory: out)
      print("accuracy \(String(format: "%.4f", metrics.accuracy)) (\(tta ? "AdaBN, batch \(ttaBatch)" : "no TTA")); wrote \(path)")
      if let featuresOut {
        let f = try evaluator.geneFeatures(source: source, tta: tta, ttaBatch: ttaBatch, seed: seed)
        let emb = try GeneEmbedding(genes: f.genes, values: f.values, dimension: f.dim, source: "grape classify \(runPath)")
        try emb.write(to: featuresOut)
        print("wrote \(emb.count) genes × \(emb.dimension) features to \(featuresOut)")
      }
    }
  }
}
