import ABRA
import Foundation
import GrapeSupport
import NeuralNet
import Training

/// Everything that defines a GRAPE run: the networks (as the contract's `config.json` names
/// them), the training recipe, and the data it was trained on.
///
/// JSON keys are the snake_case forms of the property names (`img_size`, `dim_in`, …). A
/// `--config` file overrides any subset of them.
public struct GRAPEConfig: Codable, Equatable, Sendable {
  // MARK: Networks (contract keys)
  /// Crop size in pixels (a multiple of 8).
  public var imgSize: Int
  /// Image channels.
  public var inChannels: Int
  /// Channels after `from_rgb` and of the first trunk convolution.
  public var dimIn: Int
  /// Channel cap of the doubling plan.
  public var maxConvDim: Int
  /// Style code size.
  public var styleDim: Int
  /// Gene-embedding size (columns of M).
  public var latentDim: Int
  /// Hidden width of the mapping network.
  public var mappingHidden: Int
  /// Gene names, in embedding-row order.
  public var genes: [String]
  /// Channel names.
  public var channels: [String]
  /// Whether ABRA regularises the style encoder.
  public var abra: Bool

  // MARK: Training recipe
  /// The preset this configuration started from.
  public var preset: GRAPEPreset
  /// Cells per mini-batch.
  public var batchSize: Int
  /// Training iterations.
  public var steps: Int
  /// Parts each process computes its share of a mini-batch in, averaging their gradients
  /// before every update (gradient accumulation; nil: 1). Memory then holds one part at a time;
  /// k parts in one process compute what k data-parallel ranks do.
  public var microBatches: Int?
  /// How mini-batches are drawn: `class_balanced` (every gene equally often, cells from any
  /// batch; GRAPE's sampler) or `plate` (every cell of a mini-batch from one experimental batch,
  /// genes balanced within it; what ABRA needs). nil: `plate` with ABRA, `class_balanced` without.
  public var sampler: SamplerKind?
  /// Adam learning rate of G, D and E.
  public var lr: Float
  /// Learning rate of the mapping network F (GRAPE: same as `lr`).
  public var lrMapping: Float
  /// Learning rate of the gene embedding M (GRAPE: same as `lr`).
  public var lrEmbedding: Float
  /// Learning rate of D's output layer, the per-gene heads (GRAPE: same as `lr`; nil = `lr`).
  public var lrDiscriminatorHeads: Float?
  /// Standard deviation of the N(0, σ²) initialisation of D's head weights (nil: He, as every
  /// other layer; 0: zeros, so each head starts with no opinion of its gene).
  public var discriminatorHeadsInitStd: Float?
  /// Adam (β₁, β₂).
  public var betas: [Float]
  /// Adam (β₁, β₂) of the gene embedding M and the mapping network F (nil: `betas`). GRAPE's
  /// β₁ = 0 keeps no momentum; M and F, fed mostly by mini-batch estimates of each gene's
  /// phenotype, may average their gradients over steps instead.
  public var embeddingBetas: [Float]?
  /// L2 weight decay added to gradients, every module.
  public var weightDecay: Float
  /// Standard deviation of M's N(0, σ²) initialisation (GRAPE: 1).
  public var embeddingInitStd: Float
  /// Weight of the cycle loss.
  public var lambdaCyc: Float
  /// Weight of the style loss.
  public var lambdaSty: Float
  /// Weight of R1.
  public var r1Gamma: Float
  /// R1 on every k-th D step only, weighted γ·k (StyleGAN2's lazy regularisation; nil or 1:
  /// every step, as GRAPE). R1's double backward is the costliest part of the D step, and the
  /// penalty changes slowly, so a k-th of the evaluations at k times the weight keeps its
  /// expected gradient.
  public var r1Every: Int?
  /// The cycle term on every k-th G step only, weighted λ_cyc·k (the same lazy schedule; nil or
  /// 1: every step). The cycle's second pass through G is the costliest part of the G step.
  public var cycleEvery: Int?
  /// Weight of a cross-entropy over D's per-gene heads on real cells, as an auxiliary-classifier
  /// GAN trains its discriminator: each real cell's own head is pushed above the other genes'
  /// heads, so the heads learn the genes' phenotypes rather than only how the fakes fall short.
  /// 0 (GRAPE as published, the `paper` preset) leaves the D step unchanged; the CPU presets use 1.
  public var lambdaDCls: Float
  /// Weight of the style–gene alignment of real cells, an addition to GRAPE: each real cell's
  /// code E(x) is classified against every gene's style F(M[g]) by a softmax over the scaled
  /// cosines (a prototype classifier whose prototypes are the mapping network's styles), so that
  /// the rows of M receive a gradient from the real cells of their gene, and from every other
  /// gene's cells as negatives, at every step. 0 (GRAPE as published) leaves the G step unchanged.
  public var lambdaStyleAlign: Float
  /// Scale (inverse temperature) of the cosines of the style–gene alignment.
  public var styleAlignScale: Float
  /// Scale of the alignment's softmax as seen by M and F, an addition (nil: `style_align_scale`
  /// for all three). When set, the encoder learns by the alignment at `style_align_scale` against
  /// fixed styles, and M and F learn at this scale against fixed codes. A prototype learnt by a
  /// sharp softmax is pushed away from the genes its cells are confused with, so complex-mates
  /// repel; a soft one (a small scale) moves each gene's style toward the mean direction of its
  /// own cells' codes, away from all cells' mean, which keeps similar genes similar.
  public var styleAlignPrototypeScale: Float?
  /// Real cells per step that the style–gene alignment classifies: the G step's own mini-batch
  /// plus further cells drawn by the sampler up to this number (nil: the mini-batch alone). The
  /// encoder costs a fraction of the generator and discriminator per image, so a larger
  /// alignment batch gives M many more real cells per second of training.
  public var styleAlignBatch: Int?
  /// Updates of the style–gene alignment alone per iteration, an addition to GRAPE: after the D
  /// and G steps, this many further mini-batches of real cells (drawn by the sampler, `batch_size`
  /// each) update E, F and M by the alignment, as the supervised control's step does (nil or 0:
  /// none). The encoder's step costs about a tenth of GRAPE's iteration, so the rows of M get
  /// several updates from real cells for each update of the generator and discriminator. Off
  /// when `lambda_style_align` is 0.
  public var styleAlignSteps: Int?
  /// What a training step optimises: `grape` (the D step and the G step, GRAPE's objective) or
  /// `encoder_classifier`, a supervised control that trains only the style encoder, M and F by
  /// the style–gene alignment (weight 1 unless `lambda_style_align` says otherwise) and skips the
  /// discriminator and the generator. It measures how far the same encoder gets on the genes in
  /// the same time when it is told them directly: the ceiling of the per-gene means of its codes.
  public var objective: TrainingObjective
  /// Stops training (with a checkpoint) once this many minutes of training have run, counted
  /// over resumes; nil: no limit. Lets runs be compared at equal wall-clock.
  public var maxMinutes: Double?
  /// EMA update: `every_step` with `ema_beta`, or `periodic` every `ema_interval` steps with `ema_beta`.
  public var emaMode: EMAMode
  /// EMA blend factor.
  public var emaBeta: Float
  /// Steps between periodic EMA blends.
  public var emaInterval: Int
  /// Steps between checkpoints (the last step always writes one).
  public var checkpointEvery: Int
  /// Steps between log rows.
  public var logEvery: Int
  /// Steps between validations while training (`grape train` logs the CORUM mAP of the EMA gene
  /// embedding, the rows of M, as `val_map` in `log.tsv`); the last step is always validated.
  /// 0 or nil: off. The presets: off for `tiny`, every 100 steps for `cpu` and `cpu64`, every
  /// 1,000 for `paper`. A validation reads the weights and draws no random numbers, so it never
  /// changes what is trained, and its time is not training time.
  public var validationEvery: Int?
  /// Seed of every random draw of the run.
  public var seed: UInt64
  /// How the input transform of an integer (uint16) store is chosen at training time:
  /// `controls` (GRAPE's preprocessing: percentile mapping, then per-batch z-scores by the
  /// control cells) or `percentile` (the percentile mapping alone). Float stores are always fed
  /// as stored.
  public var inputNormalization: InputNormalization
  /// How stored pixels are mapped to network inputs (recorded at training time).
  public var inputTransform: InputTransform?

  // MARK: ABRA (used when `abra` is set; ``abraSettings``)
  /// λ of ABRA's hybrid loss.
  public var abraLambda: Float
  /// ArcFace margin m (radians).
  public var abraMargin: Float
  /// ArcFace scale s.
  public var abraScale: Float
  /// Weight of L_rob in the G step.
  public var abraWeight: Float
  /// Step size α of the gradient ascent on K.
  public var abraStepSize: Float
  /// Weight of the JS term (0 drops it).
  public var abraJsWeight: Float
  /// The gene classifier of ABRA's objective: `auxiliary` (nil; a linear CE head and ArcFace
  /// centres on the style code, as designed) or `alignment` (the style–gene alignment's
  /// prototypes F(M), an addition for runs that have the alignment).
  public var abraHead: ABRAStyleRegularizer.Head?

  /// The `abra_*` fields as ABRA's settings: the JS term takes part when its weight is positive,
  /// K is ascended by plain gradient steps from 0.1, without a bound.
  public var abraSettings: ABRASettings {
    ABRASettings(
      lambda: abraLambda, margin: abraMargin, scale: abraScale, terms: abraJsWeight > 0 ? .ceArcJS : .ceArc, jsWeight: abraJsWeight,
      stepSize: abraStepSize, weight: abraWeight)
  }

  /// The named preset `name` (``GRAPEPreset``).
  public static func preset(_ name: String) throws -> GRAPEConfig {
    guard let p = GRAPEPreset(rawValue: name) else {
      throw GRAPEError.invalidConfig("unknown preset '\(name)' (expected \(GRAPEPreset.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    return preset(p)
  }

  /// The named presets of DESIGN.md.
  public static func preset(_ p: GRAPEPreset) -> GRAPEConfig {
    var c = GRAPEConfig.base
    c.preset = p
    switch p {
    case .tiny:
      (c.imgSize, c.dimIn, c.maxConvDim, c.styleDim, c.latentDim, c.mappingHidden, c.batchSize) = (16, 8, 32, 16, 32, 32, 4)
      c.steps = 200
    case .cpu:
      (c.imgSize, c.dimIn, c.maxConvDim, c.styleDim, c.latentDim, c.mappingHidden, c.batchSize) = (32, 32, 256, 64, 500, 512, 16)
      c.steps = 2000
    case .cpu64:
      (c.imgSize, c.dimIn, c.maxConvDim, c.styleDim, c.latentDim, c.mappingHidden, c.batchSize) = (64, 32, 256, 64, 500, 512, 16)
      c.steps = 2000
    case .paper:
      (c.imgSize, c.dimIn, c.maxConvDim, c.styleDim, c.latentDim, c.mappingHidden, c.batchSize) = (96, 64, 512, 64, 500, 512, 256)
      c.steps = 100_000
      c.emaMode = .periodic
      c.emaBeta = 0.5
      c.emaInterval = 2500
      c.checkpointEvery = 5000
    }
    c.validationEvery = [.tiny: 0, .cpu: 100, .cpu64: 100, .paper: 1000][p]
    if p != .paper { c.applyCPURecipe() }
    if p == .cpu || p == .cpu64 {
      c.applyRealCellAlignment()
      c.applyCPUABRAWeight()
    }
    return c
  }

  /// The training recipe of the CPU presets (`tiny`, `cpu`, `cpu64`), which get thousands of
  /// steps at batch 16 where GRAPE gets 100,000 at batch 256 (Evaluation/grape-training.md).
  ///
  /// Only per-gene information reaches the rows of M, through D's per-gene heads; with GRAPE's
  /// settings the heads and M stay near their random initialisation within a CPU budget, and
  /// heads trained only against the fakes learn how the fakes fall short rather than the genes'
  /// phenotypes. So: D's heads start at zero and learn at 1e-2, and also classify real cells by
  /// gene (`lambda_d_cls` 1); M starts at N(0, 0.01²) and learns at 1e-2; F at 1e-3; G, D and E
  /// at 1e-3. Everything else (losses, β, weight decay, EMA) is GRAPE's.
  public mutating func applyCPURecipe() {
    lr = 1e-3
    lrMapping = 1e-3
    lrEmbedding = 1e-2
    embeddingInitStd = 0.01
    lrDiscriminatorHeads = 1e-2
    discriminatorHeadsInitStd = 0
    lambdaDCls = 1
  }

  /// With `--abra`, ABRA's robust loss at 0.3 of its weight in the G step (`abra_weight`; the
  /// `cpu` and `cpu64` presets). Its own gene classifier on the style codes competes with the
  /// alignment for E: at weight 1, 30 minutes of `--abra` end 0.02–0.05 mAP below GRAPE alone;
  /// at 0.3 level with it, on two sets of seeds over the three screens of
  /// Evaluation/grape-training.md §11. The perturbation, its min–max step and the
  /// plate-consistent batches are ABRA's as published; `paper` keeps weight 1.
  public mutating func applyCPUABRAWeight() {
    abraWeight = 0.3
  }

  /// The addition that makes the rows of M learn within a CPU budget (the `cpu` and `cpu64`
  /// presets; Evaluation/grape-training.md §6–8): the style–gene alignment of real cells
  /// (`lambda_style_align` 1), and four further alignment-only updates of E, F and M per
  /// iteration (`style_align_steps` 4), each on its own mini-batch of real cells. The D and G
  /// steps are GRAPE's. `{"lambda_style_align": 0}` turns both off.
  public mutating func applyRealCellAlignment() {
    lambdaStyleAlign = 1
    styleAlignSteps = 4
  }

  /// GRAPE's own training settings (paper §3): every learning rate 1e-4, M ~ N(0, 1), He-initialised
  /// heads, no auxiliary classification in D. The `paper` preset has them; `--config` can restore them on the CPU presets.
  public mutating func applyPaperTraining() {
    lr = 1e-4
    lrMapping = 1e-4
    lrEmbedding = 1e-4
    embeddingInitStd = 1
    lrDiscriminatorHeads = nil
    discriminatorHeadsInitStd = nil
    lambdaDCls = 0
    lambdaStyleAlign = 0
    styleAlignSteps = nil
    embeddingBetas = nil
    styleAlignPrototypeScale = nil
  }

  /// GRAPE's hyperparameters (paper §3 and DESIGN.md) before a preset sets the sizes.
  static let base = GRAPEConfig(
    imgSize: 32, inChannels: 4, dimIn: 32, maxConvDim: 256, styleDim: 64, latentDim: 500, mappingHidden: 512,
    genes: [], channels: [], abra: false, preset: .cpu, batchSize: 16, steps: 2000, sampler: nil, lr: 1e-4, lrMapping: 1e-4,
    lrEmbedding: 1e-4, lrDiscriminatorHeads: nil, discriminatorHeadsInitStd: nil, betas: [0, 0.99], weightDecay: 1e-4, embeddingInitStd: 1, lambdaCyc: 1, lambdaSty: 1, r1Gamma: 1, lambdaDCls: 0,
    lambdaStyleAlign: 0, styleAlignScale: 16, objective: .grape, maxMinutes: nil, emaMode: .everyStep, emaBeta: 0.999, emaInterval: 2500, checkpointEvery: 500, logEvery: 10, seed: 0,
    inputNormalization: .controls, inputTransform: nil, abraLambda: 0.5, abraMargin: 0.2, abraScale: 16, abraWeight: 1, abraStepSize: 0.01, abraJsWeight: 1)

  /// Checks ranges and consistency; the message names the field.
  public func validate() throws {
    func fail(_ s: String) -> GRAPEError { .invalidConfig(s) }
    guard imgSize >= 8, imgSize % 8 == 0 else { throw fail("img_size must be a positive multiple of 8, got \(imgSize)") }
    guard inChannels >= 1 else { throw fail("in_channels must be at least 1, got \(inChannels)") }
    guard dimIn >= 1, maxConvDim >= dimIn else { throw fail("dim_in (\(dimIn)) must be ≥ 1 and ≤ max_conv_dim (\(maxConvDim))") }
    guard styleDim >= 1, latentDim >= 1, mappingHidden >= 1 else { throw fail("style_dim, latent_dim and mapping_hidden must be ≥ 1") }
    guard batchSize >= 1 else { throw fail("batch_size must be at least 1, got \(batchSize)") }
    if let k = microBatches {
      guard k >= 1, batchSize % k == 0 else { throw fail("micro_batches must be ≥ 1 and divide batch_size (\(batchSize)), got \(k)") }
      guard k == 1 || !abra else { throw fail("micro_batches cannot be used with --abra: ABRA's batch statistics need the whole mini-batch") }
    }
    guard steps >= 0 else { throw fail("steps must be ≥ 0, got \(steps)") }
    guard (lrDiscriminatorHeads ?? 0) >= 0, (discriminatorHeadsInitStd ?? 0) >= 0 else {
      throw fail("lr_discriminator_heads and discriminator_heads_init_std must be ≥ 0")
    }
    guard lr >= 0, lrMapping >= 0, lrEmbedding >= 0, weightDecay >= 0 else { throw fail("learning rates and weight_decay must be ≥ 0") }
    for (name, value) in [("betas", betas), ("embedding_betas", embeddingBetas ?? betas)] {
      guard value.count == 2, value.allSatisfy({ $0 >= 0 && $0 < 1 }) else { throw fail("\(name) must be two numbers in [0, 1), got \(value)") }
    }
    guard emaBeta >= 0, emaBeta <= 1 else { throw fail("ema_beta must lie in [0, 1], got \(emaBeta)") }
    guard emaInterval >= 1, checkpointEvery >= 1, logEvery >= 1 else { throw fail("ema_interval, checkpoint_every and log_every must be ≥ 1") }
    guard !(abra && sampler == .classBalanced) else {
      throw fail("sampler class_balanced cannot be used with --abra: ABRA's batch statistics need plate-consistent mini-batches")
    }
    guard lambdaDCls >= 0, lambdaCyc >= 0, lambdaSty >= 0, r1Gamma >= 0, lambdaStyleAlign >= 0 else {
      throw fail("loss weights (lambda_cyc, lambda_sty, r1_gamma, lambda_d_cls, lambda_style_align) must be ≥ 0")
    }
    if let n = styleAlignBatch {
      guard n >= batchSize, n <= 65_536 else { throw fail("style_align_batch must lie in [batch_size (\(batchSize)), 65536], got \(n)") }
    }
    for (name, value) in [("r1_every", r1Every), ("cycle_every", cycleEvery)] {
      if let k = value { guard k >= 1, k <= 1000 else { throw fail("\(name) must lie in [1, 1000], got \(k)") } }
    }
    if let k = styleAlignSteps {
      guard k >= 0, k <= 1000 else { throw fail("style_align_steps must lie in [0, 1000], got \(k)") }
    }
    if let m = maxMinutes { guard m > 0, m <= 525_600 else { throw fail("max_minutes must lie in (0, 525600], got \(m)") } }
    if let v = validationEvery { guard v >= 0 else { throw fail("validation_every must be ≥ 0 (0: off), got \(v)") } }
    for (name, value) in [("style_align_scale", styleAlignScale), ("style_align_prototype_scale", styleAlignPrototypeScale ?? styleAlignScale)] {
      guard value > 0, value <= 1000 else { throw fail("\(name) must lie in (0, 1000], got \(value)") }
    }
    guard embeddingInitStd > 0 else { throw fail("embedding_init_std must be positive") }
    guard !channels.isEmpty || genes.isEmpty || channels.count == inChannels else { throw fail("channels has \(channels.count) names for in_channels \(inChannels)") }
    if let s = memoryFloor.shortfall(
      fields: "batch_size \(batchSize), img_size \(imgSize), dim_in \(dimIn), max_conv_dim \(maxConvDim), latent_dim \(latentDim), mapping_hidden \(mappingHidden) and style_dim \(styleDim)")
    {
      throw fail(s)
    }
  }

  /// A lower bound on training's memory (``MemoryFloor``): the 3×3 convolutions of G (ten
  /// blocks) and of D and E (one block per halving), at most `max_conv_dim` wide; M, F and D's
  /// heads for the genes (at least one); the first layer's feature maps of each image.
  public var memoryFloor: MemoryFloor {
    let (c, img) = (Double(maxConvDim), Double(imgSize))
    let halvings = max(1, log2(img).rounded(.down) - 2)
    let convs = 2 * 9 * c * c * (10 + 2 * halvings)
    let genesCount = Double(max(genes.count, 1))
    let mapping = Double(latentDim) * Double(mappingHidden) + Double(mappingHidden) * Double(mappingHidden) + Double(mappingHidden) * Double(styleDim)
    return MemoryFloor(
      parameters: convs + genesCount * Double(latentDim) + mapping + c * genesCount, featureMapFloats: Double(dimIn) * img * img,
      batch: Double(batchSize) * 2)
  }

  /// Further real cells per step for the style–gene alignment beyond the mini-batch.
  public var extraAlignmentCells: Int {
    guard styleAlignWeight > 0, !trainsEncoderClassifier, let n = styleAlignBatch else { return 0 }
    return max(0, n - batchSize)
  }

  /// Alignment-only updates of E, F and M after each GRAPE iteration (`style_align_steps`).
  public var alignmentOnlySteps: Int {
    guard styleAlignWeight > 0, !trainsEncoderClassifier else { return 0 }
    return styleAlignSteps ?? 0
  }

  /// Whether the D step of iteration `step` (1-based; 0 in tests: always) computes R1 (`r1_every`).
  public func computesR1(atStep step: Int) -> Bool { step % (r1Every ?? 1) == 0 }

  /// Whether the G step of iteration `step` (1-based; 0 in tests: always) computes the cycle term (`cycle_every`).
  public func computesCycle(atStep step: Int) -> Bool { step % (cycleEvery ?? 1) == 0 }

  /// Steps between validations, nil when validation is off (`validation_every` 0 or absent).
  public var validationInterval: Int? { validationEvery.flatMap { $0 > 0 ? $0 : nil } }

  /// Whether the run trains the supervised encoder control instead of GRAPE (`objective`).
  public var trainsEncoderClassifier: Bool { objective == .encoderClassifier }

  /// The weight of the style–gene alignment in this run's steps.
  public var styleAlignWeight: Float { trainsEncoderClassifier && lambdaStyleAlign == 0 ? 1 : lambdaStyleAlign }

  /// Whether mini-batches are plate-consistent (the `sampler` field, resolved).
  public var platesConsistentBatches: Bool { sampler.map { $0 == .plate } ?? abra }

  /// The EMA schedule this configuration asks for.
  public var emaSchedule: EMASchedule {
    switch emaMode {
    case .everyStep: return .everyStep(beta: emaBeta)
    case .periodic: return .periodic(interval: emaInterval, factor: emaBeta)
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

  /// Reads a configuration written by ``jsonData()``.
  public static func from(json data: Data, source: String) throws -> GRAPEConfig {
    let dec = JSONDecoder()
    dec.keyDecodingStrategy = .convertFromSnakeCase
    do {
      return try dec.decode(GRAPEConfig.self, from: data)
    } catch let DecodingError.keyNotFound(key, _) {
      throw GRAPEError.invalidConfig("\(source): missing field '\(snakeCase(key.stringValue))'")
    } catch let DecodingError.typeMismatch(_, ctx) {
      throw GRAPEError.invalidConfig("\(source): field '\(ctx.codingPath.map { snakeCase($0.stringValue) }.joined(separator: "."))' has the wrong type")
    } catch let DecodingError.dataCorrupted(ctx) where !ctx.codingPath.isEmpty {
      throw GRAPEError.invalidConfig("\(source): \(ctx.codingPath.map { snakeCase($0.stringValue) }.joined(separator: ".")) \(ctx.debugDescription)")
    } catch {
      throw GRAPEError.invalidConfig("\(source): not a valid configuration (\(error))")
    }
  }

  /// This configuration with the fields of a JSON object overriding it.
  ///
  /// - Parameter ignoringUnknownKeys: skip keys this toolkit does not know (a run folder written
  ///   by other code) instead of rejecting them (a user's `--config`, where they are typos).
  public func overridden(with json: Data, source: String, ignoringUnknownKeys: Bool = false) throws -> GRAPEConfig {
    let merged = try mergeJSONObject(
      try jsonData(), patch: json, source: source, knownKeys: configurationKeys(of: self), ignoringUnknownKeys: ignoringUnknownKeys)
    return try GRAPEConfig.from(json: merged, source: source)
  }

}

/// The named network and training presets (DESIGN.md "Presets"): `tiny` for tests, `cpu` and
/// `cpu64` for CPU training with the CPU recipe, `paper` as GRAPE was published.
public enum GRAPEPreset: String, ConfigChoice {
  case tiny, cpu, cpu64, paper
}

/// What a training step optimises (`objective`).
public enum TrainingObjective: String, ConfigChoice {
  /// GRAPE's D step and G step.
  case grape
  /// The supervised control: the style encoder, M and F trained by the style–gene alignment
  /// alone, without D and G.
  case encoderClassifier = "encoder_classifier"
}

/// When the weight average is updated (`ema_mode`; ``GRAPEConfig/emaSchedule``).
public enum EMAMode: String, ConfigChoice {
  /// After every step with `ema_beta` (StarGAN v2).
  case everyStep = "every_step"
  /// Every `ema_interval` steps with `ema_beta` (GRAPE).
  case periodic
}

/// Errors of the GRAPE module: those of training (``TrainingError``).
public typealias GRAPEError = TrainingError
