import Training
import GrapeSupport
import ABRA
import ArgumentParser
import Dispatch
import Evaluation
import Foundation
import GRAPE
import OPSData
import TensorCore

/// `grape classify`: ABRA's own task, classifying perturbations in batches never seen in training.
struct Classify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train and evaluate a perturbation classifier on held-out batches (ERM, DSU, AdvStyle, ABRA; AdaBN test-time adaptation).",
    subcommands: [ClassifyTrain.self, ClassifyEvaluate.self, ClassifyBaseline.self])
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

  @Option(name: .customLong("train-batches"), help: "Batch names trained on, comma-separated (default: every batch not held out); the others are neither trained on nor evaluated.")
  var trainBatches: String?

  @Option(help: "Training iterations (default: the method's).")
  var steps: Int?

  @Option(name: .customLong("batch-size"), help: "Cells per plate-consistent mini-batch.")
  var batchSize: Int?

  @Option(help: "Adam learning rate.")
  var lr: Float?

  @Option(name: .customLong("validation-fraction"), help: "Share of each training batch's cells kept out of training as a validation split, in [0, 1) (default 0.1).")
  var validationFraction: Double?

  @Option(name: .customLong("lr-schedule"), help: "Learning-rate schedule after warm-up: \(LearningRateSchedule.choices) (default constant).")
  var lrSchedule: LearningRateSchedule?

  @Option(name: .customLong("warmup-steps"), help: "Steps of linear learning-rate warm-up (default 0).")
  var warmupSteps: Int?

  @Option(name: .customLong("label-smoothing"), help: "Label smoothing of the cross-entropy, in [0, 1) (default 0).")
  var labelSmoothing: Float?

  @Option(name: .customLong("input-normalization"), help: "Integer stores: percentile (each channel's 0.1/99.9 percentiles to 0/1; default) controls (then a z-score per batch and channel by the batch's control cells) or image (each crop's channels standardised by their own mean and std, as RxRx1-WILDS; no statistics of other cells).")
  var inputNormalization: InputNormalization?

  @Option(help: "Mini-batches: plate (every cell from one batch, ABRA's plate-consistent batches; default) or class_balanced (cells from any training batch; not with abra).")
  var sampler: SamplerKind?

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
    if let validationFraction {
      guard validationFraction >= 0, validationFraction < 1 else { throw ValidationError("--validation-fraction must lie in [0, 1), got \(validationFraction)") }
    }
    if let warmupSteps { guard warmupSteps >= 0 else { throw ValidationError("--warmup-steps must be at least 0, got \(warmupSteps)") } }
    if let labelSmoothing {
      guard labelSmoothing >= 0, labelSmoothing < 1 else { throw ValidationError("--label-smoothing must lie in [0, 1), got \(labelSmoothing)") }
    }
    guard FileManager.default.fileExists(atPath: data) else { throw ValidationError("--data \(data): no such file") }
    try CLISupport.refuseTrainedRun(runPath, resume: resume)
  }

  func run() throws {
    try CLISupport.run { try CLISupport.removingFailedRun(runPath, train) }
  }

  private func train() throws {
    let trainer = try ClassifierTrainer.prepare(
      ClassifierTrainingRequest(
        data: data, run: runPath, method: method, holdoutBatches: holdoutBatches.map(CLISupport.list),
        trainBatches: trainBatches.map(CLISupport.list), configFile: config, steps: steps,
        batchSize: batchSize, lr: lr, validationFraction: validationFraction, lrSchedule: lrSchedule, warmupSteps: warmupSteps,
        labelSmoothing: labelSmoothing, inputNormalization: inputNormalization, sampler: sampler, seed: seed, resume: resume))
    let cfg = trainer.config
    let interrupt = CLISupport.stopOnInterrupt(trainer.loop.stopFlag)
    let split = trainer.split
    note(
      "training \(cfg.method.rawValue) on \(split.training.count) cells, \(split.validation.count) kept for validation "
        + "(held out: \(cfg.holdoutBatches.joined(separator: ", ")), \(split.heldOut.count) cells), \(cfg.steps) steps → \(runPath)")
    // val_acc is measured every validate_every steps; the line shows the latest measurement.
    nonisolated(unsafe) var latestValidation: Float?
    let display = TrainingProgress<ClassifierLosses>(unit: "cells/s", rateDigits: 0) { l in
      if let v = l.validationAccuracy, v.isFinite { latestValidation = v }
      var s = String(format: "loss %.3f  train_acc %.3f", l.loss, l.accuracy)
      if let v = latestValidation { s += String(format: "  val_acc %.3f", v) }
      return s
    }
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

  @Flag(name: .customLong("no-splits"), help: "Skip the accuracy on the run's training and validation cells (train_accuracy, validation_accuracy).")
  var noSplits = false

  @Option(name: .customLong("train-cells"), help: "Training cells scored for train_accuracy (a seeded subset; at least as many as the validation cells).")
  var trainCells: Int = 2000

  @Option(name: .customLong("features-out"), help: "Also write per-gene mean penultimate features as an embedding (.h5, .tsv, .csv or .h5ad).")
  var featuresOut: String?

  @Option(name: .customLong("statistics-out"), help: "Also write each batch's channel mean and std at the perturbation point, with the run's K (.tsv).")
  var statisticsOut: String?

  @OptionGroup var overwrite: ForceOption

  func validate() throws {
    if let statisticsOut { guard statisticsOut.lowercased().hasSuffix(".tsv") else { throw ValidationError("--statistics-out \(statisticsOut): the extension must be .tsv") } }
    guard ttaBatch >= 2 else { throw ValidationError("--tta-batch must be at least 2, got \(ttaBatch)") }
    guard trainCells >= 1 else { throw ValidationError("--train-cells must be at least 1, got \(trainCells)") }
    if let featuresOut { guard GeneEmbedding.FileFormat(path: featuresOut) != nil else { throw ValidationError("--features-out \(featuresOut): the extension must be .h5, .tsv, .csv or .h5ad") } }
  }

  func run() throws {
    try CLISupport.run {
      if let featuresOut {
        try OutputGuard.check(output: featuresOut, flag: "--features-out", inputs: [("--data", data)], force: overwrite.force)
      }
      if let statisticsOut {
        try OutputGuard.check(output: statisticsOut, flag: "--statistics-out", inputs: [("--data", data)], force: overwrite.force)
      }
      let source = try StoreCellSource(path: data)
      let evaluator = try ClassifierEvaluator(run: RunFolder(path: runPath))
      let options = ClassifierEvaluationOptions(
        tta: tta, ttaBatch: ttaBatch, seed: seed, curveSizes: (tta && !noCurve) ? ClassifierEvaluationOptions.figure7Sizes : [],
        splits: !noSplits, trainSubsetCells: trainCells)
      let metrics = try evaluator.evaluate(source: source, options: options)
      try Folder.create(out)
      let path = try metrics.write(toDirectory: out)
      print("\(splitLine(train: metrics.trainAccuracy, validation: metrics.validationAccuracy, heldOut: metrics.accuracy)) (\(tta ? "AdaBN, batch \(ttaBatch)" : "no TTA")); wrote \(path)")
      if let featuresOut {
        let f = try evaluator.geneFeatures(source: source, tta: tta, ttaBatch: ttaBatch, seed: seed)
        let emb = try GeneEmbedding(genes: f.genes, values: f.values, dimension: f.dim, source: "grape classify \(runPath)")
        try emb.write(to: featuresOut)
        print("wrote \(emb.count) genes × \(emb.dimension) features to \(featuresOut)")
      }
      if let statisticsOut {
        let stats = try evaluator.featureStatistics(source: source)
        try AtomicFile.write(Data(ClassifierEvaluator.statisticsTSV(stats, model: evaluator.model).utf8), to: statisticsOut)
        print("wrote the channel statistics of \(stats.count) batches after stage \(evaluator.model.perturbStage) to \(statisticsOut)")
      }
    }
  }
}

/// "train 0.41, validation 0.23, held-out 0.05" (the parts that were measured).
func splitLine(train: Double?, validation: Double?, heldOut: Double?) -> String {
  let parts = [("train", train), ("validation", validation), ("held-out", heldOut)].compactMap { name, v in
    v.map { "\(name) \(String(format: "%.4f", $0))" }
  }
  return "accuracy: " + parts.joined(separator: ", ")
}

/// `grape classify baseline`.
struct ClassifyBaseline: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "baseline",
    abstract: "A logistic regression on per-cell engineered features, standardised per batch by its control cells, on a classifier's split.",
    discussion: """
      Trains on the training cells of a classifier run (--run: its held-out batches and validation split) or of the split \
      the flags describe, and writes DIR/metrics.json with train_accuracy, validation_accuracy and the held-out accuracy \
      (the keys of grape classify evaluate, method "logistic"). The features are those of grape features --cells-out; each \
      batch's are standardised by its control cells (--normalize controls), then by the training cells' mean and standard \
      deviation, and a multinomial logistic regression with an L2 penalty (scikit-learn's C) is fitted by L-BFGS.
      """)

  @Option(help: "The cell store (HDF5).")
  var data: String

  @Option(help: "Output folder for metrics.json.")
  var out: String

  @Option(name: .customLong("run"), help: "A classifier run whose held-out batches and validation split to use.")
  var runPath: String?

  @Option(name: .customLong("holdout-batches"), help: "Without --run: batch names held out, comma-separated (default: the last batch).")
  var holdoutBatches: String?

  @Option(name: .customLong("validation-fraction"), help: "Without --run: share of each training batch's cells kept for validation, in [0, 1) (default 0.1).")
  var validationFraction: Double?

  @Option(name: .customLong("validation-seed"), help: "Without --run: seed of the validation draw (default 0, as grape classify train).")
  var validationSeed: UInt64?

  @Option(help: "Per-batch normalisation of the features: controls (each batch standardised by its control cells) or none.")
  var normalize: ProfileNormalization = .controls

  @Option(name: .customLong("c"), help: "Inverse L2 strength, as scikit-learn's C.")
  var inverseRegularization: Double = 1

  @Option(name: .customLong("max-iter"), help: "L-BFGS iterations at most.")
  var maxIterations: Int = 1000

  @Option(help: "Stop when the largest gradient entry is below this.")
  var tolerance: Double = 1e-5

  @Option(name: .customLong("train-cells"), help: "Training cells scored for train_accuracy (as grape classify evaluate --train-cells).")
  var trainCells: Int = 2000

  @Option(name: .customLong("batch-size"), help: "Cells read per chunk.")
  var batchSize: Int = 512

  @OptionGroup var seeding: SeedOption

  func validate() throws {
    guard FileManager.default.fileExists(atPath: data) else { throw ValidationError("--data \(data): no such file") }
    if let validationFraction {
      guard validationFraction >= 0, validationFraction < 1 else { throw ValidationError("--validation-fraction must lie in [0, 1), got \(validationFraction)") }
    }
    if runPath != nil, holdoutBatches != nil || validationFraction != nil || validationSeed != nil {
      throw ValidationError("--run sets the split; leave out --holdout-batches, --validation-fraction and --validation-seed")
    }
    guard inverseRegularization > 0, inverseRegularization.isFinite else { throw ValidationError("--c must be positive, got \(inverseRegularization)") }
    guard maxIterations >= 1 else { throw ValidationError("--max-iter must be at least 1, got \(maxIterations)") }
    guard tolerance >= 0 else { throw ValidationError("--tolerance must be at least 0, got \(tolerance)") }
    guard trainCells >= 1 else { throw ValidationError("--train-cells must be at least 1, got \(trainCells)") }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
  }

  func run() throws {
    try CLISupport.run {
      let t0 = monotonicSeconds()
      let source = try StoreCellSource(path: data)
      let split: ClassifierSplit
      var holdout: [String]
      let fraction: Double
      if let runPath {
        let cfg = try ClassifierConfig.read(run: RunFolder(path: runPath))
        guard cfg.batches == source.batchNames else {
          throw ABRAError.dataMismatch("--data \(data): its batches differ from the run's (\(cfg.batches.joined(separator: ", ")))")
        }
        split = try ClassifierSplit(config: cfg, source: source)
        (holdout, fraction) = (cfg.holdoutBatches, cfg.validationFraction)
      } else {
        holdout = holdoutBatches.map(CLISupport.list) ?? [source.batchNames.last ?? ""]
        fraction = validationFraction ?? 0.1
        split = try ClassifierSplit(source: source, holdoutBatches: holdout, validationFraction: fraction, seed: validationSeed ?? 0)
      }
      let store = source.store
      let extractor = try FeatureExtractor(channels: store.channels.count, height: store.height, width: store.width, genes: store.genes)
      var values: [Double] = []
      values.reserveCapacity(store.count * extractor.spec.count)
      for start in stride(from: 0, to: store.count, by: batchSize) {
        let idx = Array(start..<min(start + batchSize, store.count))
        for row in try extractor.features(of: try store.images(at: idx), firstRow: start) { values += row }
      }
      let featureSeconds = monotonicSeconds() - t0
      var profiles = try CellProfiles(
        values: values, features: extractor.featureNames, geneOfCell: source.geneOfCell, batchOfCell: source.batchOfCell, genes: store.genes,
        batches: store.batches, controlGene: store.controlIndex)
      if normalize == .controls { try ProfileNormalizer.apply(&profiles, method: .standardize) }
      let subset = split.trainingSubset(count: max(trainCells, split.validation.count), seed: seeding.seed &+ 7)
      let r = try LogisticBaseline.run(
        profiles: profiles, training: split.training, trainSubset: subset, validation: split.validation, heldOut: split.heldOut,
        c: inverseRegularization, maxIterations: maxIterations, tolerance: tolerance)
      var metrics = ClassifierMetrics(
        method: "logistic", tta: false, accuracy: r.heldOutAccuracy ?? 0, perBatch: r.perBatch, cells: split.heldOut.count,
        cellsPerBatch: r.cellsPerBatch, chance: 1 / Double(max(store.genes.count, 1)), heldOut: !holdout.isEmpty,
        evaluatedBatches: store.batches.filter { holdout.contains($0) })
      metrics.trainAccuracy = r.trainAccuracy
      metrics.trainCells = subset.count
      metrics.validationAccuracy = r.validationAccuracy
      metrics.validationCells = split.validation.count
      metrics.validationFraction = fraction
      var json = (try JSONSerialization.jsonObject(with: metrics.jsonData()) as? [String: Any]) ?? [:]
      json["baseline"] = [
        "features": extractor.spec.count, "normalization": normalize.rawValue, "c": inverseRegularization, "iterations": r.model.iterations,
        "converged": r.model.converged, "loss": r.model.loss, "training_cells": split.training.count, "train_accuracy_all": r.trainAllAccuracy,
        "feature_seconds": featureSeconds, "fit_seconds": r.fitSeconds,
      ] as [String: Any]
      try Folder.create(out)
      let path = "\(out)/metrics.json"
      try AtomicFile.write(try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]), to: path)
      print(
        "\(splitLine(train: r.trainAccuracy, validation: r.validationAccuracy, heldOut: r.heldOutAccuracy)) (logistic regression, "
          + "\(r.model.iterations) L-BFGS iterations\(r.model.converged ? "" : ", not converged"), \(String(format: "%.0f", monotonicSeconds() - t0)) s); wrote \(path)")
    }
  }
}
