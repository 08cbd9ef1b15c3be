import GrapeSupport
import ABRA
import NeuralNet
import TensorCore

/// ABRA inside GRAPE (`grape train --abra`): the perturbation layer wraps the style encoder E
/// after its last residual block, with an auxiliary gene classifier on the style code.
///
/// Every G step (``loss(images:features:genes:encoder:styles:)``):
/// 1. h = E.features(x) (the trunk's output, [N, C, k, k], shared with the G step's E(x)); ε is
///    drawn per channel.
/// 2. Phase 1: with E frozen, ascend K on λ·CE + (1 − λ)·Arc of the gene classifier on
///    s_t = E.codes(ABRA(h)) (the regulariser updates K itself).
/// 3. Phase 2: with K fixed, return `weight`·L_rob over s = E.codes(h) and s_t, plus the JS
///    alignment; GRAPE adds it to the G-step objective, so E and the classifier descend it.
///
/// The gene classifier (``Head``) is the auxiliary one on the style code (`auxiliary`, the
/// design as published: a linear CE head and ArcFace centres of its own), or the style–gene
/// alignment's prototype classifier (`alignment`, `abra_head`): logits s·cos(E(x), F(M[g])) at the
/// alignment's scale for CE, and F(M) as the ArcFace centres, so ABRA makes robust the classifier
/// that already trains E, M and F instead of adding a second one with another geometry.
///
/// Parameter names (the contract's): `abra.k_mu`, `abra.k_sigma` [1, C, 1, 1];
/// `aux_head.cls.weight` [G, style_dim], `aux_head.cls.bias` [G], `aux_head.arc_w` [G, style_dim].
/// ``descendedParameters`` are the auxiliary heads (trained with E's optimiser);
/// ``savedParameters`` add K.
///
/// The noise ε of a step is a deterministic function of the seed, the current K and the
/// mini-batch (a hash of their bits seeds the generator). The regulariser thus keeps no random
/// state of its own, and a run resumed from a checkpoint (which stores K) draws the same noise
/// as an uninterrupted one.
///
/// GRAPE mini-batches should be plate-consistent (every cell from one batch) for the batch
/// statistics to mean what Eq. 1 says; the regulariser cannot check this (it sees no batch
/// labels).
public final class ABRAStyleRegularizer: Module, StyleEncoderRegularizer {
  /// The perturbation layer (`abra.k_mu`, `abra.k_sigma`).
  public let abra: ABRALayer
  /// The auxiliary gene classifier on the style code (`aux_head.cls`, `aux_head.arc_w`).
  public let auxHead: GeneClassifierHead
  /// The min–max step (objective, step size α, plain gradient ascent).
  public let minMax: ABRAMinMaxStep
  /// Weight of L_rob in the G-step objective.
  public let weight: Float
  /// Seed mixed into every noise draw.
  public let seed: UInt64
  /// The gene classifier whose loss ABRA's two phases use.
  public let head: Head
  /// Scale of the cosine logits of the `alignment` head (`style_align_scale`).
  public let alignmentScale: Float

  /// Which gene classifier ABRA's objective classifies the style codes with (`abra_head`).
  public enum Head: String, ConfigChoice {
    /// A linear CE head and ArcFace centres of the regulariser's own (`aux_head.*`).
    case auxiliary
    /// The style–gene alignment's prototypes F(M): cosine logits at the alignment's scale for
    /// CE, F(M) as the ArcFace centres. The `aux_head.*` parameters are kept but not trained.
    case alignment
  }

  /// A regulariser for a style encoder with `featureChannels` trunk channels.
  ///
  /// - Parameters:
  ///   - featureChannels: C of `StyleEncoder.features(_:)`.
  ///   - styleDim: the style code size (the auxiliary classifier's input).
  ///   - genes: number of genes G.
  ///   - objective: λ, ArcFace margin and scale, terms and JS weight.
  ///   - stepSize: α of the ascent on K.
  ///   - weight: multiplies L_rob.
  ///   - seed: initialises the heads and seeds the noise.
  ///   - initialK: starting value of K.
  ///   - head: the gene classifier of the objective.
  ///   - alignmentScale: the cosine scale of the `alignment` head.
  public init(
    featureChannels: Int, styleDim: Int, genes: Int, objective: ABRAObjective = ABRAObjective(), stepSize: Float = 0.1,
    weight: Float = 1, seed: UInt64 = 0, initialK: Float = 0.1, head: Head = .auxiliary, alignmentScale: Float = 16
  ) {
    precondition(genes > 1, "ABRAStyleRegularizer: needs at least two genes, got \(genes)")
    precondition(weight >= 0, "ABRAStyleRegularizer: weight must be ≥ 0")
    var rng = RandomGenerator(seed: seed ^ 0xA8_2A_5EED)
    abra = ABRALayer(channels: featureChannels, initialK: initialK)
    auxHead = GeneClassifierHead(dim: styleDim, classes: genes, arcFace: objective.terms.usesArcFace, rng: &rng)
    minMax = ABRAMinMaxStep(objective: objective, stepSize: stepSize, ascent: .gradient)
    self.weight = weight
    self.seed = seed
    self.head = head
    self.alignmentScale = alignmentScale
    super.init()
  }

  /// The regulariser a GRAPE configuration asks for: the style encoder's trunk width, the
  /// config's genes and style size, and its `abra_*` fields (λ = `abra_lambda`,
  /// m = `abra_margin`, s = `abra_scale`, α = `abra_step_size`, w_JS = `abra_js_weight` (0 drops
  /// the JS term), L_rob weight `abra_weight`, the classifier `abra_head` at `style_align_scale`),
  /// seeded by `seed`.
  public convenience init(config c: GRAPEConfig) throws {
    guard c.genes.count > 1 else { throw ABRAError.invalidConfig("ABRA needs at least two genes, the configuration has \(c.genes.count)") }
    let settings = c.abraSettings
    try settings.validate()
    self.init(
      featureChannels: styleEncoderFeatureChannels(imageSize: c.imgSize, dimIn: c.dimIn, maxConvDim: c.maxConvDim), styleDim: c.styleDim,
      genes: c.genes.count, objective: settings.objective, stepSize: settings.stepSize, weight: settings.weight, seed: c.seed,
      initialK: settings.initialK, head: c.abraHead ?? .auxiliary, alignmentScale: c.styleAlignScale)
  }

  /// The auxiliary heads, descended with the style encoder (none with the `alignment` head,
  /// whose prototypes are trained with M and F).
  public var descendedParameters: [(String, Parameter)] { head == .auxiliary ? auxHead.namedParameters(prefix: "aux_head") : [] }

  /// K and the auxiliary heads.
  public var savedParameters: [(String, Parameter)] { namedParameters() }

  /// Runs phase 1 (updating K) and returns `weight`·L_rob with logged values `abra_adv`
  /// (L_adv before the update), `abra_rob`, `abra_ce`, `abra_arc`, `abra_js`, `abra_k_mu`,
  /// `abra_k_sigma` (mean |K|).
  public func loss(images: Tensor, features h: Tensor, genes: [Int], encoder: StyleEncoder, styles: Tensor) -> (Tensor, [String: Float]) {
    precondition(encoder.featureChannels == abra.channels, "ABRAStyleRegularizer: built for \(abra.channels) feature channels, the encoder has \(encoder.featureChannels)")
    var rng = noiseGenerator(images: images, genes: genes)
    let noise = abra.drawNoise(using: &rng)
    let codes: (Tensor) -> HeadOutput
    let arcWeight: Tensor?
    switch head {
    case .auxiliary:
      let aux = auxHead
      codes = { f in aux.output(encoder.codes(fromFeatures: f)) }
      arcWeight = auxHead.arcW?.value
    case .alignment:
      let prototypes = styles.l2Normalized(axis: 1)
      let scale = alignmentScale
      codes = { f in
        let s = encoder.codes(fromFeatures: f)
        return HeadOutput(logits: matmul(s.l2Normalized(axis: 1), prototypes, transposeB: true) * scale, embedding: s)
      }
      arcWeight = styles
    }
    let adv = minMax.adversarialPhase(layer: abra, features: h, noise: noise, targets: genes, arcWeight: arcWeight, head: codes)
    let rob = minMax.robustPhase(layer: abra, features: h, noise: noise, targets: genes, arcWeight: arcWeight, head: codes)
    let k = abra.meanMagnitudes
    let logged: [String: Float] = [
      "abra_adv": adv, "abra_rob": rob.total.item, "abra_ce": 0.5 * (rob.ceClean + rob.cePerturbed),
      "abra_arc": 0.5 * (rob.arcClean + rob.arcPerturbed), "abra_js": rob.jensenShannon, "abra_k_mu": k.mu, "abra_k_sigma": k.sigma,
    ]
    return (rob.total * weight, logged)
  }

  /// The names ``loss(images:features:genes:encoder:styles:)`` logs, sorted (for a log header).
  public static let loggedNames = ["abra_adv", "abra_arc", "abra_ce", "abra_js", "abra_k_mu", "abra_k_sigma", "abra_rob"]

  /// The names ``loss(images:features:genes:encoder:styles:)`` logs, sorted (the log columns GRAPE appends).
  public var loggedNames: [String] { ABRAStyleRegularizer.loggedNames }

  /// A generator seeded by the seed, K and the mini-batch (see the type's notes).
  func noiseGenerator(images: Tensor, genes: [Int]) -> RandomGenerator {
    var h = StableHasher(seed: seed)
    abra.kMu.value.withUnsafeScalars { for v in $0 { h.combine(v.bitPattern) } }
    abra.kSigma.value.withUnsafeScalars { for v in $0 { h.combine(v.bitPattern) } }
    images.withUnsafeScalars { for v in $0 { h.combine(v.bitPattern) } }
    for g in genes { h.combine(UInt32(truncatingIfNeeded: g)) }
    return RandomGenerator(seed: h.value)
  }
}

/// Channels of GRAPE's style-encoder trunk output: dim_in doubled once per down-sampling block
/// (⌊log₂ img⌋ − 2 of them), capped at max_conv_dim (DESIGN.md, "Style encoder E").
public func styleEncoderFeatureChannels(imageSize: Int, dimIn: Int, maxConvDim: Int) -> Int {
  var r = 0
  while (1 << (r + 1)) <= imageSize { r += 1 }
  var d = dimIn
  for _ in 0..<max(r - 2, 0) { d = min(d * 2, maxConvDim) }
  return d
}

/// A fixed, platform-independent 64-bit hash (FNV-1a over 32-bit words, finished with
/// SplitMix64's mixer); the standard library's `Hasher` is randomly seeded per process.
struct StableHasher {
  private(set) var state: UInt64

  init(seed: UInt64) { state = 0xCBF2_9CE4_8422_2325 ^ seed }

  mutating func combine(_ word: UInt32) {
    state = (state ^ UInt64(word)) &* 0x0000_0100_0000_01B3
  }

  var value: UInt64 {
    var z = state &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
