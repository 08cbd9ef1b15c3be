import GrapeSupport
import Foundation
import Training
import NeuralNet
import TensorCore

/// The training methods of the perturbation classifier (`grape classify train --method`).
public enum ClassifierMethod: String, Codable, CaseIterable, Sendable {
  /// Empirical risk minimisation: cross-entropy only.
  case erm
  /// DSU (Li et al., 2022): resampled per-instance statistics at the perturbation point.
  case dsu
  /// AdvStyle (Zhong et al., 2022): adversarial per-instance statistics (Eq. 5).
  case advstyle
  /// ABRA: adversarial batch-statistic perturbation with CE + ArcFace + JS (Algorithm 1).
  case abra
}

/// Everything that defines a classifier run, saved as the run's `config.json` (snake_case keys).
///
/// Defaults follow the paper where it is specific (Adam, weight decay 1e-5, λ = 0.5, flips and
/// 90° rotations, ABRA after the last residual stage, DSU p = 0.5) and are otherwise sized for
/// CPU training of small crops (learning rate 1e-3 without warm-up, width 32, 3 stages).
public struct ClassifierConfig: Codable, Equatable, Sendable {
  /// Identifies the run kind: `grape-classifier`.
  public var format: String
  /// The method.
  public var method: ClassifierMethod
  /// Gene names, in class order.
  public var genes: [String]
  /// Every batch name of the training data, in store order.
  public var batches: [String]
  /// Batches excluded from training (evaluated by `grape classify evaluate`).
  public var holdoutBatches: [String]
  /// The batches trained on; empty (the default): every batch not held out. Batches in neither
  /// list are left out of training and evaluation alike.
  public var trainBatches: [String]
  /// Channel names.
  public var channels: [String]
  /// [C, H, W] of every crop.
  public var imageShape: [Int]

  // MARK: Network
  /// Channels of the stem and the first stage.
  public var width: Int
  /// Number of residual stages.
  public var stages: Int
  /// Basic blocks per stage.
  public var blocksPerStage: Int
  /// The perturbation (DSU, AdvStyle, ABRA) acts after this stage (1-based; the last by default).
  public var perturbStage: Int

  // MARK: Training
  /// Cells per mini-batch the sampler is asked for (recorded; the sampler decides).
  public var batchSize: Int
  /// Training iterations.
  public var steps: Int
  /// Adam learning rate.
  public var lr: Float
  /// L2 weight decay added to the gradient.
  public var weightDecay: Float
  /// Adam (β₁, β₂).
  public var betas: [Float]
  /// Seed of the weights and of every random draw of training.
  public var seed: UInt64
  /// Steps between checkpoints (the last step always writes one).
  public var checkpointEvery: Int
  /// Steps between log rows.
  public var logEvery: Int
  /// Random horizontal and vertical flips and 90° rotations of each training crop (p = 0.5 each).
  public var augment: Bool
  /// Standardise each crop per channel over (H, W) before the network (the paper's
  /// "self-standardization"). Off by default: it also removes intensity phenotypes.
  public var standardizeInputs: Bool
  /// How stored pixels become network inputs (chosen at training time).
  public var inputTransform: InputTransform?
  /// How the input transform of an integer store is chosen: `percentile` (each channel's
  /// 0.1/99.9 percentiles mapped to 0/1, the default) or `controls` (that mapping, clipped, then a
  /// z-score per batch and channel by the batch's control cells, as RxRx1 users normalise each
  /// plate by its control wells; the training batches' statistics are recorded in
  /// `input_transform`, and evaluation computes each other batch's from its own controls). Float
  /// stores are fed as stored, as GRAPE does.
  public var inputNormalization: InputNormalization

  /// How mini-batches are drawn: `plate` (every cell from one batch, genes balanced within it;
  /// ABRA's Eq. 3, so BatchNorm normalises each step by one plate's statistics; the default) or
  /// `class_balanced` (genes balanced, cells from any training batch, so the statistics BatchNorm
  /// trains with are those of all plates together, as its running averages are). `abra` needs
  /// `plate`.
  public var sampler: SamplerKind
  /// With `sampler` `plate`: plate-consistent groups per mini-batch (1: one plate per
  /// mini-batch, the paper's Eq. 3). With G > 1 each mini-batch is G groups of
  /// `batch_size`/G cells, each group from one plate and the groups from the next G plates of
  /// the sampler's round; BatchNorm normalises over all of them (as with `class_balanced`), and
  /// ABRA's layer takes the statistics of each group on its own (``ABRALayer/groups``), an
  /// addition to the paper.
  public var plateGroups: Int

  // MARK: Schedule, regularisation and validation
  /// The learning-rate schedule after warm-up: `constant` or `cosine` (decay to 0 at `steps`).
  public var lrSchedule: LearningRateSchedule
  /// Steps of linear learning-rate warm-up from 0 (0: none).
  public var warmupSteps: Int
  /// Label smoothing ε of every cross-entropy term, in [0, 1) (0: hard targets, the paper's).
  public var labelSmoothing: Float
  /// Share of each training batch's cells kept out of training as a validation split, in [0, 1)
  /// (``ClassifierSplit``).
  public var validationFraction: Double
  /// Seed of the validation draw (independent of `seed`, so runs of different seeds share it).
  public var validationSeed: UInt64
  /// Steps between validation-accuracy measurements logged as `val_acc` (0: none; a multiple of
  /// `log_every`).
  public var validateEvery: Int
  /// Validation cells scored at each of those measurements (a fixed seeded subset).
  public var validationLogCells: Int

  // MARK: Methods
  /// λ of ABRA's hybrid loss.
  public var abraLambda: Float
  /// ArcFace margin m (radians).
  public var abraMargin: Float
  /// ArcFace scale s.
  public var abraScale: Float
  /// Loss terms: `ce`, `ce_arc` or `ce_arc_js`.
  public var abraTerms: ABRALossTerms
  /// Weight of the JS term.
  public var abraJsWeight: Float
  /// Step size α of the ascent on K (the learning rate when `abra_ascent` is `adam`); 0.01.
  ///
  /// The paper gives no value. Measured on a synthetic screen (ResNet width 8, 2 stages, batch
  /// 24): with α = 0.1 the mean |K_μ| reached 6.8 after 1,000 steps and the perturbed
  /// cross-entropy 13 (the network could not keep up); with 0.01 it grew to 1.9, 2.9, 3.7 and 4.4
  /// after 1,000–4,000 steps while the perturbed cross-entropy stayed below 0.7; with 0.001 it
  /// stayed near 0.2, too small to matter. The ascent is unbounded, as in the paper
  /// (`abra_max_k` bounds it).
  public var abraStepSize: Float
  /// `gradient` (Eq. 12) or `adam` (maximising Adam).
  public var abraAscent: ABRAAscentRule
  /// Initial value of K.
  public var abraInitialK: Float
  /// Optional bound on |K|.
  public var abraMaxK: Float?
  /// DSU's probability of perturbing a forward pass.
  public var dsuProbability: Float
  /// AdvStyle's ascent step α.
  public var advstyleStepSize: Float

  /// A configuration for `source` with every other field at its default.
  ///
  /// For a store of integer pixels the input transform is chosen here, as GRAPE does: each
  /// channel's 0.1 and 99.9 percentiles over 2,000 cells sampled with seed 0 map to 0 and 1
  /// (`InputTransform.percentile`); float stores are fed as stored.
  ///
  /// - Parameters:
  ///   - method: the training method.
  ///   - source: the training data (genes, batches, channels and crop shape are read from it).
  ///   - holdoutBatches: batch names to exclude from training.
  /// - Throws: ``ABRAError/unknownBatches(names:known:)`` for names the data lacks,
  ///   ``ABRAError/singleCellBatch(name:)`` for a training batch with a single cell,
  ///   ``ABRAError/noTrainingCells(heldOut:)`` when nothing is left to train on.
  public init(method: ClassifierMethod, source: CellSource, holdoutBatches: [String] = []) throws {
    format = ClassifierConfig.formatName
    self.method = method
    genes = source.geneNames
    batches = source.batchNames
    self.holdoutBatches = holdoutBatches
    trainBatches = []
    channels = source.channelNames
    imageShape = source.imageShape
    width = 32
    stages = 3
    blocksPerStage = 1
    perturbStage = 3
    batchSize = 64
    steps = 2000
    lr = 1e-3
    weightDecay = 1e-5
    betas = [0.9, 0.999]
    seed = 0
    checkpointEvery = 500
    logEvery = 10
    augment = true
    standardizeInputs = false
    inputTransform = nil
    inputNormalization = .percentile
    sampler = .plate
    plateGroups = 1
    lrSchedule = .constant
    warmupSteps = 0
    labelSmoothing = 0
    validationFraction = 0.1
    validationSeed = 0
    validateEvery = 250
    validationLogCells = 512
    abraLambda = 0.5
    abraMargin = 0.5
    abraScale = 30
    abraTerms = .ceArcJS
    abraJsWeight = 1
    abraStepSize = 0.01
    abraAscent = .gradient
    abraInitialK = 0.1
    abraMaxK = nil
    dsuProbability = 0.5
    advstyleStepSize = 1
    _ = try ClassifierTrainer.trainingCells(source: source, holdoutBatches: holdoutBatches)
    try chooseInputTransform(source: source)
    try validate()
  }

  /// Sets ``inputTransform`` from ``inputNormalization`` for an integer store (float stores are
  /// fed as stored): the percentile mapping of 2,000 cells sampled with seed 0, and for
  /// `controls` the per-batch control statistics of the training batches (the held-out batches'
  /// are computed from their own controls when evaluated). A transform of the right kind is kept.
  public mutating func chooseInputTransform(source: CellSource) throws {
    guard !source.storesFloatPixels else { return }
    var rng = RandomGenerator(seed: 0)
    switch inputNormalization {
    case .percentile:
      if inputTransform?.kind != .affine { inputTransform = try InputTransform.percentile(of: source, rng: &rng) }
    case .controls:
      if inputTransform?.kind != .controls {
        let excluded = ClassifierTrainer.excludedBatches(source: source, holdoutBatches: holdoutBatches, trainBatches: trainBatches)
        let training = source.batchNames.indices.filter { !excluded.contains($0) }
        inputTransform = try InputTransform.controls(of: source, batches: training, rng: &rng)
      }
    case .image:
      inputTransform = .perImage
    }
  }

  /// The learning rate of step `step` (1-based) under ``lrSchedule`` and ``warmupSteps``.
  public func learningRate(atStep step: Int) -> Float {
    lrSchedule.rate(step: step, total: steps, base: lr, warmup: warmupSteps)
  }

  /// The `format` value of classifier runs.
  public static let formatName = "grape-classifier"

  /// Indices (into ``batches``) of the held-out batches.
  /// - Throws: ``ABRAError/unknownBatches(names:known:)`` naming every unknown name.
  public func heldOutBatchIndices() throws -> [Int] {
    let unknown = holdoutBatches.filter { !batches.contains($0) }
    guard unknown.isEmpty else { throw ABRAError.unknownBatches(names: unknown, known: batches) }
    return holdoutBatches.compactMap { batches.firstIndex(of: $0) }
  }

  /// The network shape.
  public var networkShape: CellResNetShape {
    CellResNetShape(inChannels: imageShape.first ?? 1, width: width, stages: stages, blocksPerStage: blocksPerStage)
  }

  /// The `abra_*` fields as ABRA's settings.
  public var abraSettings: ABRASettings {
    ABRASettings(
      lambda: abraLambda, margin: abraMargin, scale: abraScale, terms: abraTerms, jsWeight: abraJsWeight, stepSize: abraStepSize,
      ascent: abraAscent, initialK: abraInitialK, maxK: abraMaxK)
  }

  /// The ABRA objective of this configuration (with the run's label smoothing on its CE terms).
  public var abraObjective: ABRAObjective {
    var o = abraSettings.objective
    o.labelSmoothing = labelSmoothing
    return o
  }

  /// Checks ranges and consistency; the message names the field.
  public func validate() throws {
    func fail(_ s: String) -> ABRAError { .invalidConfig(s) }
    guard format == ClassifierConfig.formatName else { throw fail("format must be '\(ClassifierConfig.formatName)', got '\(format)' (is this a GRAPE run?)") }
    guard genes.count >= 2 else { throw fail("genes must name at least two classes, got \(genes.count)") }
    guard Set(genes).count == genes.count else { throw fail("genes contains duplicate names") }
    guard imageShape.count == 3, imageShape.allSatisfy({ $0 > 0 }) else { throw fail("image_shape must be [C, H, W] with positive sizes, got \(imageShape)") }
    guard channels.isEmpty || channels.count == imageShape[0] else { throw fail("channels has \(channels.count) names for \(imageShape[0]) image channels") }
    guard width >= 1, stages >= 1, blocksPerStage >= 1 else { throw fail("width, stages and blocks_per_stage must be ≥ 1") }
    guard perturbStage >= 1, perturbStage <= stages else { throw fail("perturb_stage must lie in 1…\(stages) (stages), got \(perturbStage)") }
    let minSide = min(imageShape[1], imageShape[2])
    guard minSide >> (stages - 1) >= 1 else { throw fail("\(stages) stages halve a \(minSide)-pixel crop below one pixel; use fewer stages") }
    guard batchSize >= 2 else { throw fail("batch_size must be at least 2 (batch statistics), got \(batchSize)") }
    guard steps >= 0 else { throw fail("steps must be ≥ 0, got \(steps)") }
    guard lr >= 0, weightDecay >= 0 else { throw fail("lr and weight_decay must be ≥ 0") }
    guard betas.count == 2, betas.allSatisfy({ $0 >= 0 && $0 < 1 }) else { throw fail("betas must be two numbers in [0, 1), got \(betas)") }
    guard checkpointEvery >= 1, logEvery >= 1 else { throw fail("checkpoint_every and log_every must be ≥ 1") }
    guard sampler == .plate || method != .abra else {
      throw fail("sampler class_balanced cannot be used with method abra: ABRA's batch statistics need plate-consistent mini-batches")
    }
    guard plateGroups >= 1, batchSize % plateGroups == 0, batchSize / plateGroups >= 2 else {
      throw fail("plate_groups must be ≥ 1 and split batch_size (\(batchSize)) into groups of at least two cells, got \(plateGroups)")
    }
    guard plateGroups == 1 || sampler == .plate else { throw fail("plate_groups applies to sampler plate only, got sampler \(sampler.rawValue)") }
    guard warmupSteps >= 0 else { throw fail("warmup_steps must be ≥ 0, got \(warmupSteps)") }
    guard labelSmoothing >= 0, labelSmoothing < 1 else { throw fail("label_smoothing must lie in [0, 1), got \(labelSmoothing)") }
    guard validationFraction >= 0, validationFraction < 1 else { throw fail("validation_fraction must lie in [0, 1), got \(validationFraction)") }
    guard validateEvery >= 0 else { throw fail("validate_every must be ≥ 0, got \(validateEvery)") }
    guard validateEvery % logEvery == 0 else {
      throw fail("validate_every (\(validateEvery)) must be a multiple of log_every (\(logEvery)), so that each measurement is a logged row")
    }
    guard validationLogCells >= 1 else { throw fail("validation_log_cells must be ≥ 1, got \(validationLogCells)") }
    try abraSettings.validate()
    guard dsuProbability >= 0, dsuProbability <= 1 else { throw fail("dsu_probability must lie in [0, 1], got \(dsuProbability)") }
    guard advstyleStepSize >= 0 else { throw fail("advstyle_step_size must be ≥ 0") }
    guard Set(holdoutBatches).count == holdoutBatches.count else { throw fail("holdout_batches names a batch twice") }
    guard Set(trainBatches).count == trainBatches.count else { throw fail("train_batches names a batch twice") }
    if let both = trainBatches.first(where: holdoutBatches.contains) {
      throw fail("batch '\(both)' is both trained on (train_batches) and held out (holdout_batches)")
    }
    if let unknown = trainBatches.first(where: { !batches.contains($0) }) {
      throw fail("train_batches names '\(unknown)', which is not a batch of the data (\(batches.joined(separator: ", ")))")
    }
    // The widest stage's 3×3 convolutions, the first stage's feature maps (``MemoryFloor``).
    let widest = Double(width) * pow(2, Double(stages - 1))
    let floor = MemoryFloor(
      parameters: 2 * 9 * widest * widest * Double(blocksPerStage),
      featureMapFloats: Double(width) * Double(imageShape[1]) * Double(imageShape[2]), batch: Double(batchSize))
    if let s = floor.shortfall(fields: "batch_size \(batchSize), width \(width), stages \(stages) and image_shape \(imageShape)") { throw fail(s) }
    if let t = inputTransform, t.kind == .affine, t.offset.count != imageShape[0] || t.scale.count != imageShape[0] {
      throw fail("input_transform has \(t.offset.count) offsets and \(t.scale.count) scales for \(imageShape[0]) channels")
    }
  }

  // MARK: JSON

  /// The configuration as pretty-printed JSON with snake_case keys.
  public func jsonData() throws -> Data {
    let enc = JSONEncoder()
    enc.keyEncodingStrategy = .convertToSnakeCase
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try enc.encode(self)
  }

  /// The values of fields added after the first classifier runs, as those runs trained: no
  /// validation split, a constant learning rate, hard targets, the percentile input mapping.
  /// A `config.json` without them reads with these values, so older runs stay loadable.
  static var legacyDefaults: [String: Any] {
    [
    "validation_fraction": 0, "validation_seed": 0, "validate_every": 0, "validation_log_cells": 512, "lr_schedule": "constant",
    "warmup_steps": 0, "label_smoothing": 0, "input_normalization": "percentile", "sampler": "plate", "train_batches": [String](),
    "plate_groups": 1,
    ]
  }

  /// Reads a configuration written by ``jsonData()``; `source` names the file in errors.
  public static func from(json data: Data, source: String) throws -> ClassifierConfig {
    let dec = JSONDecoder()
    dec.keyDecodingStrategy = .convertFromSnakeCase
    var data = data
    if var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], legacyDefaults.keys.contains(where: { object[$0] == nil }) {
      for (k, v) in legacyDefaults where object[k] == nil { object[k] = v }
      data = (try? JSONSerialization.data(withJSONObject: object)) ?? data
    }
    let c: ClassifierConfig
    do {
      c = try dec.decode(ClassifierConfig.self, from: data)
    } catch let DecodingError.keyNotFound(key, _) {
      throw ABRAError.invalidRun(path: source, reason: "missing field '\(snakeCase(key.stringValue))' (is this a classifier run?)")
    } catch let DecodingError.typeMismatch(_, ctx) {
      throw ABRAError.invalidRun(path: source, reason: "field '\(ctx.codingPath.map { snakeCase($0.stringValue) }.joined(separator: "."))' has the wrong type")
    } catch let DecodingError.dataCorrupted(ctx) {
      throw ABRAError.invalidRun(path: source, reason: "invalid value at '\(ctx.codingPath.map { snakeCase($0.stringValue) }.joined(separator: "."))': \(ctx.debugDescription)")
    } catch {
      throw ABRAError.invalidRun(path: source, reason: "not a valid classifier configuration (\(error))")
    }
    try c.validate()
    return c
  }

  /// This configuration with the fields of a JSON object (a user's `--config` file) written over
  /// it; unknown keys are errors naming `source`.
  public func overridden(with json: Data, source: String) throws -> ClassifierConfig {
    let merged = try mergeJSONObject(try jsonData(), patch: json, source: source, knownKeys: configurationKeys(of: self))
    return try ClassifierConfig.from(json: merged, source: source)
  }

  /// Reads `config.json` of a run folder.
  public static func read(run: RunFolder) throws -> ClassifierConfig {
    guard let data = FileManager.default.contents(atPath: run.configPath) else {
      throw ABRAError.invalidRun(path: run.configPath, reason: "missing or unreadable; is \(run.path) a classifier run folder?")
    }
    return try from(json: data, source: run.configPath)
  }
}
