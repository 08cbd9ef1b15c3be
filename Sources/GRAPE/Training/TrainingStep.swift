import GrapeSupport
import NeuralNet
import TensorCore

/// One mini-batch of a GRAPE iteration: images, the gene of each image (y) and the target gene
/// to translate to (z).
public struct GRAPEBatch {
  /// Network inputs [N, C, H, W] (after the input transform).
  public var images: Tensor
  /// Gene of each cell (the discriminator head of the real image).
  public var genes: [Int]
  /// Target gene of each translation.
  public var targets: [Int]
  /// Batch (plate) index of each cell; ABRA needs it.
  public var batches: [Int]
  /// Further real cells that only the style–gene alignment sees (`style_align_batch`), and their genes.
  public var alignmentImages: Tensor?
  public var alignmentGenes: [Int]

  public init(images: Tensor, genes: [Int], targets: [Int], batches: [Int] = [], alignmentImages: Tensor? = nil, alignmentGenes: [Int] = []) {
    self.images = images
    self.genes = genes
    self.targets = targets
    self.batches = batches
    self.alignmentImages = alignmentImages
    self.alignmentGenes = alignmentGenes
  }
}

/// A regulariser of the style encoder that joins GRAPE's G step (ABRA plugs in here).
public protocol StyleEncoderRegularizer: AnyObject {
  /// Parameters trained together with E by descent (e.g. an auxiliary classifier head).
  var descendedParameters: [(String, Parameter)] { get }
  /// Every parameter the regulariser saves in checkpoints (including ones it updates itself).
  var savedParameters: [(String, Parameter)] { get }
  /// Called in the G step with the real images and E's trunk features of them (in the graph:
  /// the G step computes them once and reuses them for E(x)), and the genes' styles F(M) [G,
  /// style_dim] (in the graph), which a regulariser may classify the codes against; may update
  /// its own adversarial parameters. Returns a loss (added to the G-step objective, so its
  /// gradients reach E, F, M and the regulariser's parameters) and named values to log.
  func loss(images: Tensor, features: Tensor, genes: [Int], encoder: StyleEncoder, styles: Tensor) -> (Tensor, [String: Float])
  /// Names of the values ``loss(images:features:genes:encoder:)`` logs (columns of `log.tsv`).
  var loggedNames: [String] { get }
}

extension StyleEncoderRegularizer {
  public var loggedNames: [String] { [] }

  /// The loss with E's trunk features computed here.
  public func loss(images: Tensor, genes: [Int], encoder: StyleEncoder, styles: Tensor) -> (Tensor, [String: Float]) {
    loss(images: images, features: encoder.features(images), genes: genes, encoder: encoder, styles: styles)
  }
}

/// The optimisers of a GRAPE model: one Adam per module, as StarGAN v2.
public final class GRAPEOptimizers {
  public let discriminator: Adam
  public let generator: Adam
  public let mapping: Adam
  public let embedding: Adam
  public let styleEncoder: Adam

  /// Adam (β from the config) with the config's learning rates and weight decay.
  public init(networks n: GRAPENetworks, config c: GRAPEConfig, regularizer: StyleEncoderRegularizer? = nil) {
    func params(_ prefix: String) -> [(String, Parameter)] { n.namedParameters().filter { $0.0.hasPrefix(prefix + ".") } }
    let betas = (c.betas[0], c.betas[1])
    // D's per-gene heads may learn faster than its trunk (`lr_discriminator_heads`).
    let headPrefix = n.discriminator.map { "discriminator.main.\($0.main.layers.count - 1)." } ?? "-"
    let dParams = params("discriminator")
    discriminator = Adam(
      groups: [
        Adam.Group(parameters: dParams.filter { !$0.0.hasPrefix(headPrefix) }, learningRate: c.lr, weightDecay: c.weightDecay),
        Adam.Group(parameters: dParams.filter { $0.0.hasPrefix(headPrefix) }, learningRate: c.lrDiscriminatorHeads ?? c.lr, weightDecay: c.weightDecay),
      ], betas: betas)
    generator = Adam(parameters: params("generator"), learningRate: c.lr, betas: betas, weightDecay: c.weightDecay)
    let embeddingBetas = c.embeddingBetas.map { ($0[0], $0[1]) } ?? betas
    mapping = Adam(parameters: params("mapping_network"), learningRate: c.lrMapping, betas: embeddingBetas, weightDecay: c.weightDecay)
    embedding = Adam(parameters: params("gene_embedding"), learningRate: c.lrEmbedding, betas: embeddingBetas, weightDecay: c.weightDecay)
    var encoderParams = params("style_encoder")
    if let r = regularizer { encoderParams += r.descendedParameters }
    styleEncoder = Adam(parameters: encoderParams, learningRate: c.lr, betas: betas, weightDecay: c.weightDecay)
  }

  /// Applies the updates of the G step (G, F, M and E).
  public func stepGenerators() {
    generator.step()
    mapping.step()
    embedding.step()
    styleEncoder.step()
  }

  /// Every optimiser with its state-file prefix.
  public var all: [(String, Adam)] {
    [("discriminator", discriminator), ("generator", generator), ("mapping_network", mapping), ("gene_embedding", embedding), ("style_encoder", styleEncoder)]
  }
}

/// Timings of the parts of one iteration, in seconds.
public struct StepTimings: Sendable {
  public var dStep = 0.0
  public var r1 = 0.0
  public var gStep = 0.0
  public var ema = 0.0
  public init() {}
}

/// The two updates of a GRAPE iteration (DESIGN.md "One iteration").
public enum GRAPEStep {
  /// Names of the extra values the two steps log under `config` (``StepLosses/extra``).
  public static func loggedNames(_ c: GRAPEConfig) -> [String] {
    (c.lambdaDCls > 0 && !c.trainsEncoderClassifier ? [discriminatorClassificationName] : []) + (c.styleAlignWeight > 0 ? [styleAlignmentName] : [])
  }

  /// The log name of the style–gene alignment loss (`lambda_style_align`).
  public static let styleAlignmentName = "style_align"

  /// The style–gene alignment of real cells (`lambda_style_align`): cross-entropy of each cell's
  /// gene under a softmax over `scale` · cos(E(x), F(M[g])) for every gene g. Its gradients reach
  /// E through `codes` and M and F through the styles of all genes.
  ///
  /// With a `prototypeScale` of its own (`style_align_prototype_scale`), E learns from the
  /// cross-entropy at `scale` against fixed styles and M and F from the one at `prototypeScale`
  /// against fixed codes; the loss is their sum and `logged` the encoder's term.
  public static func styleAlignment(
    codes: Tensor, networks n: GRAPENetworks, genes: [Int], scale: Float, prototypeScale: Float? = nil
  ) -> (loss: Tensor, logged: Float) {
    let styles = n.mappingNetwork(n.geneEmbedding.weight.value).l2Normalized(axis: 1)
    let normalized = codes.l2Normalized(axis: 1)
    guard let prototypeScale, prototypeScale != scale else {
      let loss = crossEntropy(logits: matmul(normalized, styles, transposeB: true) * scale, targets: genes)
      return (loss, loss.item)
    }
    let encoder = crossEntropy(logits: matmul(normalized, styles.detached(), transposeB: true) * scale, targets: genes)
    let prototypes = crossEntropy(logits: matmul(normalized.detached(), styles, transposeB: true) * prototypeScale, targets: genes)
    return (encoder + prototypes, encoder.item)
  }

  /// ``styleAlignment(codes:networks:genes:scale:prototypeScale:)`` with the configuration's scales.
  static func styleAlignment(codes: Tensor, networks n: GRAPENetworks, genes: [Int], config c: GRAPEConfig) -> (loss: Tensor, logged: Float) {
    styleAlignment(codes: codes, networks: n, genes: genes, scale: c.styleAlignScale, prototypeScale: c.styleAlignPrototypeScale)
  }

  /// The log name of D's auxiliary gene classification loss (`lambda_d_cls`).
  public static let discriminatorClassificationName = "d_cls"

  /// The discriminator update: non-saturating BCE on D_y(x) (target 1) and D_z(G(x, s)) (target
  /// 0) with s = F(M[z]) held fixed, plus γ·R1 on the reals (and, when `lambda_d_cls` > 0, a
  /// cross-entropy of the real cells' genes over all heads). Updates D.
  ///
  /// `step` is the iteration's number: with `r1_every` k, R1 is computed on the steps that k
  /// divides, weighted γ·k, and skipped on the others (`losses.r1` is then left at 0). Step 0,
  /// the default, always computes it.
  ///
  /// With `applyUpdates` false the gradients are left in each parameter's `grad` and no
  /// optimiser steps (for inspection and tests).
  @discardableResult
  public static func discriminator(
    _ n: GRAPENetworks, _ opt: GRAPEOptimizers, batch b: GRAPEBatch, config c: GRAPEConfig, step: Int = 0, losses: inout StepLosses,
    timings: inout StepTimings, applyUpdates: Bool = true
  ) -> Tensor {
    guard let d = n.discriminator else { preconditionFailure("GRAPEStep: networks without a discriminator cannot train") }
    let t0 = monotonicSeconds()
    let withR1 = c.computesR1(atStep: step)
    let fake = withoutGradient { n.generator(b.images, style: n.geneStyles(b.targets)) }
    let real = withR1 ? b.images.detached().requiringGrad() : b.images.detached()
    let logitsReal = d.logits(real)
    let outReal = logitsReal.pick(b.genes)
    let lossReal = binaryCrossEntropy(logits: outReal, target: 1)
    let t1 = monotonicSeconds()
    let r1 = withR1 ? r1Penalty(output: outReal, input: real) : nil
    let t2 = monotonicSeconds()
    let lossFake = binaryCrossEntropy(logits: d(fake, genes: b.targets), target: 0)
    var total = lossReal + lossFake
    if let r1 { total = total + r1 * (c.r1Gamma * Float(c.r1Every ?? 1)) }
    if c.lambdaDCls > 0 {
      // Auxiliary classification of real cells by their gene over all heads (`lambda_d_cls`).
      let cls = crossEntropy(logits: logitsReal, targets: b.genes)
      total = total + cls * c.lambdaDCls
      losses.extra[discriminatorClassificationName] = cls.item
    }
    let dParams = opt.discriminator.groups.flatMap { $0.parameters.map(\.1) }
    accumulateGradients(of: total, into: dParams)
    if applyUpdates { opt.discriminator.step() }
    losses.dReal = lossReal.item
    losses.dFake = lossFake.item
    losses.r1 = r1?.item ?? 0
    losses.dTotal = total.item
    timings.r1 += t2 - t1
    timings.dStep += monotonicSeconds() - t0
    return total
  }

  /// The generator update: adversarial BCE on D_z(G(x, s)) (target 1), cycle
  /// ‖x − G(G(x, s), E(x))‖₁ and the style loss ‖s̄ − E(Ḡ(x, s))‖₁ on detached inputs (which
  /// trains E alone). M, F and G take the adversarial and cycle gradients; E the cycle and style
  /// gradients. D is frozen for the step. With `lambda_style_align` > 0 the style–gene alignment
  /// of the real cells is added (``styleAlignment(codes:networks:genes:scale:prototypeScale:)``).
  ///
  /// `step` is the iteration's number: with `cycle_every` k, the cycle term is computed on the
  /// steps that k divides, weighted λ_cyc·k, and skipped on the others (`losses.gCyc` is then
  /// left at 0). Step 0, the default, always computes it.
  @discardableResult
  public static func generator(
    _ n: GRAPENetworks, _ opt: GRAPEOptimizers, batch b: GRAPEBatch, config c: GRAPEConfig, step: Int = 0,
    regularizer: StyleEncoderRegularizer? = nil, losses: inout StepLosses, timings: inout StepTimings, applyUpdates: Bool = true
  ) -> Tensor {
    guard let d = n.discriminator else { preconditionFailure("GRAPEStep: networks without a discriminator cannot train") }
    let t0 = monotonicSeconds()
    d.freeze()
    defer { d.freeze(false) }
    let s = n.geneStyles(b.targets)
    let fake = n.generator(b.images, style: s)
    let adv = binaryCrossEntropy(logits: d(fake, genes: b.targets), target: 1)
    // E(x) through its trunk features, which a regulariser reuses.
    let realFeatures = n.styleEncoder.features(b.images)
    let sOrig = n.styleEncoder.codes(fromFeatures: realFeatures)
    let cyc = c.computesCycle(atStep: step) ? l1Loss(n.generator(fake, style: sOrig), b.images) : nil
    let sty = l1Loss(n.styleEncoder(fake.detached()), s.detached())
    var total = adv + sty * c.lambdaSty
    if let cyc { total = total + cyc * (c.lambdaCyc * Float(c.cycleEvery ?? 1)) }
    if c.styleAlignWeight > 0 {
      // The mini-batch's codes, and those of the further cells drawn for the alignment alone.
      var codes = sOrig
      var genes = b.genes
      if let extra = b.alignmentImages {
        codes = concat([sOrig, n.styleEncoder(extra)], axis: 0)
        genes += b.alignmentGenes
      }
      let align = styleAlignment(codes: codes, networks: n, genes: genes, config: c)
      total = total + align.loss * c.styleAlignWeight
      losses.extra[styleAlignmentName] = align.logged
    }
    if let regularizer {
      let styles = n.mappingNetwork(n.geneEmbedding.weight.value)
      let (extraLoss, logged) = regularizer.loss(images: b.images, features: realFeatures, genes: b.genes, encoder: n.styleEncoder, styles: styles)
      total = total + extraLoss
      for (k, v) in logged { losses.extra[k] = v }
    }
    var params: [Parameter] = []
    for (_, o) in opt.all where o !== opt.discriminator { params += o.groups.flatMap { $0.parameters.map(\.1) } }
    accumulateGradients(of: total, into: params)
    if applyUpdates { opt.stepGenerators() }
    losses.gAdv = adv.item
    losses.gCyc = cyc?.item ?? 0
    losses.gSty = sty.item
    losses.gTotal = total.item
    timings.gStep += monotonicSeconds() - t0
    return total
  }

  /// The step of the supervised encoder control (`objective: encoder_classifier`): the
  /// style–gene alignment of the real cells alone, which updates E, F and M; D and G are left
  /// as initialised.
  @discardableResult
  public static func encoderClassifier(
    _ n: GRAPENetworks, _ opt: GRAPEOptimizers, batch b: GRAPEBatch, config c: GRAPEConfig, losses: inout StepLosses,
    timings: inout StepTimings, applyUpdates: Bool = true
  ) -> Tensor {
    let t0 = monotonicSeconds()
    let align = styleAlignment(codes: n.styleEncoder(b.images), networks: n, genes: b.genes, config: c)
    let total = align.loss * c.styleAlignWeight
    let params = [opt.styleEncoder, opt.mapping, opt.embedding].flatMap { $0.groups.flatMap { $0.parameters.map(\.1) } }
    accumulateGradients(of: total, into: params)
    if applyUpdates {
      opt.styleEncoder.step()
      opt.mapping.step()
      opt.embedding.step()
    }
    losses.extra[styleAlignmentName] = align.logged
    losses.gTotal = total.item
    timings.gStep += monotonicSeconds() - t0
    return total
  }

  /// Blends the EMA copy towards the trained networks when the schedule says so.
  public static func updateAverage(ema: GRAPENetworks, networks: GRAPENetworks, step: Int, config c: GRAPEConfig, timings: inout StepTimings) {
    let t0 = monotonicSeconds()
    let beta = c.emaSchedule.beta(afterStep: step)
    if let beta {
      for name in averagedModuleNames {
        guard let target = ema.child(named: name), let source = networks.child(named: name) else { continue }
        WeightAverage.blend(target: target, source: source, beta: beta)
      }
    }
    timings.ema += monotonicSeconds() - t0
  }
}

extension Module {
  /// The direct child module with the given state-dict name.
  public func child(named name: String) -> Module? {
    children().first { $0.0 == name }?.1 as? Module
  }
}
