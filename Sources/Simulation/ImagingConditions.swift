import Foundation
import OPSData
import GrapeSupport

/// How one plate of the screen was stained and imaged: the parameters of its batch effect.
///
/// Rendering turns a cell's noise-free stain image `I_c(x)` (counts) into camera counts as
///
/// ```
/// J_c  = Gσ ∗ I_c                                   (focus: Gaussian blur, σ = blurSigma · size/96 px)
/// x_c  = gain_c · V(x) · J_c                        (stain/exposure gain and illumination falloff)
/// y_c  = offset_c + x_c + sqrt(photonGain · x_c + readNoise²) · n,   n ~ N(0, 1)
/// ```
///
/// with `V(x) = max(0.2, 1 − vignetteStrength · |x − c|² / R²)` over the field of view the crop was
/// cut from (a square of 20 crop sides; `c` is the field centre moved by `vignetteCentre` field
/// widths; `R` the half-diagonal), so cells far from the centre are dimmer and slightly graded.
/// `n` is Irwin–Hall(4) noise scaled to unit variance (a fast near-Gaussian; Poisson noise is
/// approximated by its Gaussian limit). `neighbourDensity` is the mean number of neighbouring cells
/// whose parts enter the crop, `cellSizeShift` adds to every cell's log radius, and `debrisRate` is
/// the fraction of crops holding a bright debris particle. Each crop's blur also varies around the
/// plate's `blurSigma` by a log-normal factor (σ = 0.2), as focus drifts across a plate.
public struct ImagingConditions: Sendable, Codable, Equatable {
  /// Per-channel multiplicative gain (staining efficiency × exposure), [C].
  public var gain: [Float]
  /// Per-channel camera offset in counts, [C].
  public var offset: [Float]
  /// Relative intensity lost at the field corners (0 = flat illumination).
  public var vignetteStrength: Float
  /// Horizontal displacement of the illumination centre, in field widths.
  public var vignetteCentreX: Float
  /// Vertical displacement of the illumination centre, in field widths.
  public var vignetteCentreY: Float
  /// Gaussian blur σ in pixels of a 96-pixel crop (optics plus defocus).
  public var blurSigma: Float
  /// Camera read noise (counts, standard deviation).
  public var readNoise: Float
  /// Counts per photo-electron: the shot-noise variance is `photonGain × signal`.
  public var photonGain: Float
  /// Mean number of neighbouring cells reaching into a crop (Poisson).
  public var neighbourDensity: Float
  /// Added to the log radius of every cell and nucleus.
  public var cellSizeShift: Float
  /// Fraction of crops holding a debris particle (dust, fragments of dead cells).
  public var debrisRate: Float

  /// Conditions with the given values.
  public init(
    gain: [Float], offset: [Float], vignetteStrength: Float, vignetteCentreX: Float,
    vignetteCentreY: Float, blurSigma: Float, readNoise: Float, photonGain: Float,
    neighbourDensity: Float, cellSizeShift: Float, debrisRate: Float
  ) {
    self.gain = gain
    self.offset = offset
    self.vignetteStrength = vignetteStrength
    self.vignetteCentreX = vignetteCentreX
    self.vignetteCentreY = vignetteCentreY
    self.blurSigma = blurSigma
    self.readNoise = readNoise
    self.photonGain = photonGain
    self.neighbourDensity = neighbourDensity
    self.cellSizeShift = cellSizeShift
    self.debrisRate = debrisRate
  }

  /// The shared imaging set-up every batch deviates from (`--batch-effect 0` images all plates so).
  public static func baseline(channels: Int = 4) -> ImagingConditions {
    ImagingConditions(
      gain: [Float](repeating: 1, count: channels),
      offset: [Float](repeating: 100, count: channels),
      vignetteStrength: 0.25, vignetteCentreX: 0, vignetteCentreY: 0, blurSigma: 1.0,
      readNoise: 12, photonGain: 1.5, neighbourDensity: 1.2, cellSizeShift: 0, debrisRate: 0.02)
  }

  /// Ideal conditions for tests: no blur, noise, vignetting, neighbours or debris; unit gain.
  public static func ideal(channels: Int = 4) -> ImagingConditions {
    ImagingConditions(
      gain: [Float](repeating: 1, count: channels), offset: [Float](repeating: 0, count: channels),
      vignetteStrength: 0, vignetteCentreX: 0, vignetteCentreY: 0, blurSigma: 0, readNoise: 0,
      photonGain: 0, neighbourDensity: 0, cellSizeShift: 0, debrisRate: 0)
  }

  /// Spread of each parameter between batches at `--batch-effect 1` (log scale for positive
  /// parameters, additive for offsets, centres and the size shift); plates deviate from their
  /// batch by `plateFraction` of it.
  ///
  /// | parameter | between batches |
  /// |---|---|
  /// | gain (per channel) | × exp(0.3 z) |
  /// | offset (per channel) | + 30 z counts |
  /// | vignette strength | × exp(0.5 z), at most 0.8 |
  /// | vignette centre | + 0.12 z field widths (each axis), within ±1 |
  /// | blur σ | × exp(0.4 z), at most 12 |
  /// | read noise | × exp(0.35 z) |
  /// | photon gain | × exp(0.3 z) |
  /// | neighbour density | × exp(0.45 z) |
  /// | cell size shift | + 0.07 z, within ±2 |
  /// | debris rate | × exp(0.6 z), at most 0.5 |
  static let spreads = (
    gain: Float(0.3), offset: Float(30), vignette: Float(0.5), centre: Float(0.12),
    blur: Float(0.4), readNoise: Float(0.35), photonGain: Float(0.3), density: Float(0.45),
    size: Float(0.07), debris: Float(0.6)
  )

  /// Largest blur σ a batch or plate can draw (pixels of a 96-pixel crop).
  static let maximumBlur: Float = 12

  /// Fraction of the between-batch spread by which a plate deviates from its batch.
  static let plateFraction: Float = 0.3

  /// These conditions moved by standard-normal draws from `rng`, scaled by `scale` × `spreads`.
  func perturbed(_ rng: inout RandomGenerator, scale: Float) -> ImagingConditions {
    let s = Self.spreads
    func z() -> Float { Float(rng.normal()) * scale }
    var c = self
    c.gain = gain.map { $0 * Foundation.exp(s.gain * z()) }
    c.offset = offset.map { max(0, $0 + s.offset * z()) }
    c.vignetteStrength = min(0.8, vignetteStrength * Foundation.exp(s.vignette * z()))
    c.vignetteCentreX = min(1, max(-1, vignetteCentreX + s.centre * z()))
    c.vignetteCentreY = min(1, max(-1, vignetteCentreY + s.centre * z()))
    c.blurSigma = min(Self.maximumBlur, blurSigma * Foundation.exp(s.blur * z()))
    c.readNoise = readNoise * Foundation.exp(s.readNoise * z())
    c.photonGain = photonGain * Foundation.exp(s.photonGain * z())
    c.neighbourDensity = neighbourDensity * Foundation.exp(s.density * z())
    c.cellSizeShift = min(2, max(-2, cellSizeShift + s.size * z()))
    c.debrisRate = min(0.5, debrisRate * Foundation.exp(s.debris * z()))
    return c
  }

  /// Spread of a well's own deviation from its plate at `--batch-effect 1`: each channel's gain
  /// × exp(0.05 z) (a small intensity offset) and the neighbour density × exp(0.3 z).
  static let wellSpreads = (gain: Float(0.05), density: Float(0.3))

  /// These conditions with a well's own intensity and density deviation, drawn from `rng` and
  /// scaled by `scale` × `wellSpreads`.
  func wellPerturbed(_ rng: inout RandomGenerator, scale: Float) -> ImagingConditions {
    let s = Self.wellSpreads
    var c = self
    c.gain = gain.map { $0 * Foundation.exp(s.gain * scale * Float(rng.normal())) }
    c.neighbourDensity = neighbourDensity * Foundation.exp(s.density * scale * Float(rng.normal()))
    return c
  }

  /// Checks that the conditions can be drawn for `channels` channels.
  ///
  /// - Throws: `SimulationError.invalidConditions` naming the first field that is non-finite,
  ///   negative where it must not be, out of range, or of the wrong length.
  public func validate(channels: Int) throws(SimulationError) {
    func check(_ ok: Bool, _ field: String, _ reason: String) throws(SimulationError) {
      if !ok { throw .invalidConditions(field: field, reason: reason) }
    }
    try check(gain.count == channels, "gain", "expected \(channels) values, got \(gain.count)")
    try check(
      offset.count == channels, "offset", "expected \(channels) values, got \(offset.count)")
    try check(gain.allSatisfy { $0.isFinite && $0 >= 0 }, "gain", "values must be finite and ≥ 0")
    try check(
      offset.allSatisfy { $0.isFinite && $0 >= 0 }, "offset", "values must be finite and ≥ 0")
    let nonNegative: [(String, Float)] = [
      ("blurSigma", blurSigma), ("readNoise", readNoise), ("photonGain", photonGain),
      ("neighbourDensity", neighbourDensity),
    ]
    for (name, value) in nonNegative {
      try check(value.isFinite && value >= 0, name, "must be finite and ≥ 0, got \(value)")
    }
    try check(
      vignetteStrength.isFinite && (0...1).contains(vignetteStrength), "vignetteStrength",
      "must be in 0...1, got \(vignetteStrength)")
    try check(
      debrisRate.isFinite && (0...1).contains(debrisRate), "debrisRate",
      "must be in 0...1, got \(debrisRate)")
    for (name, value) in [
      ("vignetteCentreX", vignetteCentreX), ("vignetteCentreY", vignetteCentreY),
    ] {
      try check(value.isFinite, name, "must be finite, got \(value)")
    }
    try check(
      cellSizeShift.isFinite && abs(cellSizeShift) <= 3, "cellSizeShift",
      "must be finite and within ±3, got \(cellSizeShift)")
  }

  /// The parameter names of `vector`, given the channel names.
  public static func parameterNames(channels: [String]) -> [String] {
    let keys = channels.map { name in
      String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
    return keys.map { "gain_\($0)" } + keys.map { "offset_\($0)" } + [
      "vignette_strength", "vignette_centre_x", "vignette_centre_y", "blur_sigma", "read_noise",
      "photon_gain", "neighbour_density", "cell_size_shift", "debris_rate",
    ]
  }

  /// The parameters as one vector, in the order of `parameterNames(channels:)`.
  public var vector: [Float] {
    gain + offset + [
      vignetteStrength, vignetteCentreX, vignetteCentreY, blurSigma, readNoise, photonGain,
      neighbourDensity, cellSizeShift, debrisRate,
    ]
  }
}
