import Foundation
import OPSData
import GrapeSupport

/// The stage of a mitotic cell, or interphase.
enum MitoticStage: Sendable {
  case interphase, prophase, metaphase, anaphase
}

/// A straight or gently curved fibre, drawn by marching from its start point.
struct Fibre: Sendable {
  var x: Float
  var y: Float
  var angle: Float
  /// Change of angle per pixel of length.
  var curvature: Float
  /// Intensity deposited per pixel of length.
  var deposit: Float
  /// Longest length in pixels.
  var maxLength: Float
  /// Whether the fibre runs both ways from its start point (stress fibres) or one way (microtubules).
  var twoSided: Bool
  /// Sinusoidal wiggle of the angle: amplitude (radians), frequency (radians per pixel), phase.
  var wiggle: Float = 0
  var wiggleFrequency: Float = 0
  var wigglePhase: Float = 0
}

/// A Gaussian spot: a DNA-damage focus, a centrosome, or (as a dip) a nucleolus.
struct Spot: Sendable {
  var x: Float
  var y: Float
  var sigma: Float
  /// Integrated intensity of an additive spot, or relative depth of a multiplicative dip.
  var amount: Float
}

/// Everything needed to draw one cell: outlines, stain levels, texture, spots and fibres.
///
/// Built from a trait vector (see `PhenotypeParameter` for the mapping) by `CellModel.build`;
/// lengths are pixels of the crop, intensities are counts before gain, vignetting and noise. All
/// lengths scale with the crop size (`unit` = size / 96 pixels), and spot and fibre intensities
/// with the pixel area, so a crop looks the same, only sharper, at any size.
struct CellModel: Sendable {
  var stage: MitoticStage
  var cell: Outline
  /// One chromatin body (interphase nucleus, prophase nucleus, metaphase plate) or two (anaphase).
  var chromatin: [Outline]
  var texture: ValueNoise
  /// Cytoplasmic texture: modulates tubulin, diffuse actin and the cortex.
  var cytoplasm: ValueNoise
  /// Mean radius of the cell and of the nucleus, pixels.
  var cellRadius: Float
  var nucleusRadius: Float
  var dnaLevel: Float
  var textureContrast: Float
  var damageLevel: Float
  var tubulinLevel: Float
  var actinLevel: Float
  var cortexLevel: Float
  var cortexWidth: Float
  var foci: [Spot]
  var nucleoli: [Spot]
  var centrosomes: [Spot]
  var microtubules: [Fibre]
  var stressFibres: [Fibre]

  // MARK: - Reference levels (counts at unit gain) and sizes (pixels of a 96-pixel crop)

  static let nucleusRadius96: Float = 12.5
  static let cellRadius96: Float = 28
  static let dnaCounts: Float = 3500
  static let damageCounts: Float = 220
  static let focusTotal96: Float = 19000
  static let focusSigma96: Float = 1.3
  static let tubulinCounts: Float = 900
  static let microtubuleDeposit96: Float = 380
  static let microtubuleCount: Float = 60
  static let centrosomeTotal96: Float = 9000
  static let actinCounts: Float = 450
  static let cortexCounts: Float = 1800
  static let stressFibreDeposit96: Float = 1200
  /// Bound on trait values when drawing, in standard deviations (a liability beyond it changes
  /// nothing the image could show).
  static let traitLimit: Float = 6
  /// Diffuse out-of-focus background added to every channel before the imaging step.
  static let backgroundCounts: Float = 40

  /// Builds a cell whose nucleus is centred at (`x`, `y`).
  ///
  /// The cell's generator is split into one stream per component (shape, stains, texture, foci,
  /// nucleoli, microtubules, stress fibres, mitosis), so changing one trait changes only what it
  /// governs: the same seed with more foci gives the same cell with more foci.
  ///
  /// - Parameters:
  ///   - traits: trait values in control standard deviations, [`PhenotypeParameter.count`].
  ///   - size: crop side in pixels.
  ///   - sizeShift: added to the log radii (the plate's `cellSizeShift`).
  ///   - rng: the cell's own generator (advanced by a fixed number of draws).
  static func build(
    traits t: [Float], x: Float, y: Float, size: Int, sizeShift: Float,
    rng: inout RandomGenerator
  ) -> CellModel {
    typealias P = PhenotypeParameter
    var shapeRNG = rng.split()
    var levelRNG = rng.split()
    var textureRNG = rng.split()
    var fociRNG = rng.split()
    var nucleoliRNG = rng.split()
    var tubulinRNG = rng.split()
    var actinRNG = rng.split()
    var stageRNG = rng.split()
    // Traits are bounded to ±traitLimit so that extreme settings stay drawable.
    func trait(_ p: P) -> Float { min(traitLimit, max(-traitLimit, t[p.rawValue])) }
    func lognormal(_ s: Float, _ g: inout RandomGenerator) -> Float {
      Foundation.exp(s * Float(g.normal()))
    }
    let unit = Float(size) / 96
    let growth = Foundation.exp(sizeShift)

    var rn = nucleusRadius96 * unit * growth * Foundation.exp(0.11 * trait(.nuclearSize))
    var arN = 1 + 0.22 * Foundation.exp(0.45 * trait(.nuclearEccentricity))
    var irrN = 0.045 * Foundation.exp(0.6 * trait(.nuclearIrregularity))
    var rc = cellRadius96 * unit * growth * Foundation.exp(0.11 * trait(.cellArea))
    rc = max(rc, 1.5 * rn * arN.squareRoot())
    var arC = 1 + 0.4 * Foundation.exp(0.45 * trait(.cellEccentricity))
    var irrC = 0.09 * lognormal(0.3, &shapeRNG)
    var dna = dnaCounts * Foundation.exp(0.18 * trait(.dnaIntensity)) * lognormal(0.05, &levelRNG)
    var texC = 0.22 * Foundation.exp(0.45 * trait(.chromatinTexture))
    var fociMean = 2 * Foundation.exp(0.55 * trait(.fociCount))
    let fociScale = Foundation.exp(0.35 * trait(.fociIntensity))
    var damage = damageCounts * lognormal(0.2, &levelRNG)
    var tubulin =
      tubulinCounts * Foundation.exp(0.2 * trait(.tubulinIntensity)) * lognormal(0.08, &levelRNG)
    let mtCount = min(400, microtubuleCount * Foundation.exp(0.35 * trait(.microtubuleDensity)))
    var sfMean = 6 * Foundation.exp(0.45 * trait(.actinFibres))
    let sfSpread = 0.45 * Foundation.exp(-0.5 * trait(.actinAlignment))
    var cortex =
      cortexCounts * Foundation.exp(0.3 * trait(.corticalActin)) * lognormal(0.1, &levelRNG)
    var actin = actinCounts * lognormal(0.1, &levelRNG)

    var stage = MitoticStage.interphase
    let stageDraw = stageRNG.uniform()
    if trait(.mitoticFraction) > P.mitoticThreshold {
      stage = stageDraw < 0.3 ? .prophase : (stageDraw < 0.8 ? .metaphase : .anaphase)
    }

    let theta = Float(shapeRNG.uniform()) * Float.pi
    let spindle = Float(stageRNG.uniform()) * Float.pi
    let side: Float = shapeRNG.uniform() < 0.5 ? 0 : Float.pi
    let offsetAngle = theta + side + 0.5 * Float(shapeRNG.normal())
    let offsetFraction = Float(shapeRNG.uniform(0.15, 0.5))
    let nucleusAngle = theta + 0.35 * Float(shapeRNG.normal())
    var cellX = x
    var cellY = y
    var chromatin: [Outline] = []
    let interphaseRN = rn

    switch stage {
    case .interphase:
      let m = offsetFraction * (rc - rn)
      cellX = x + m * Foundation.cos(offsetAngle)
      cellY = y + m * Foundation.sin(offsetAngle)
      chromatin.append(
        Outline(
          cx: x, cy: y, radius: rn, ratio: arN, angle: nucleusAngle, irregularity: irrN,
          rng: &shapeRNG))
    case .prophase:
      rn *= 0.95
      arN = 1.1
      irrN = 0.02
      dna *= 1.5
      texC = 0.65
      rc = max(rc * 0.8, 1.5 * rn)
      arC = 1 + 0.3 * (arC - 1)
      irrC *= 0.5
      cortex *= 1.4
      sfMean *= 0.3
      chromatin.append(
        Outline(
          cx: x, cy: y, radius: rn, ratio: arN, angle: theta, irregularity: irrN, rng: &shapeRNG))
    case .metaphase:
      dna *= 2.4
      texC = 0.35
      rc = 1.35 * interphaseRN
      arC = 1.05
      irrC = 0.03
      cortex *= 2
      actin *= 1.2
      tubulin *= 1.3
      sfMean = 0
      fociMean *= 0.3
      damage *= 1.5
      chromatin.append(
        Outline(
          cx: x, cy: y, radius: 0.45 * rn, ratio: 3.2, angle: spindle + Float.pi / 2,
          irregularity: 0.05, rng: &shapeRNG))
    case .anaphase:
      dna *= 2.2
      texC = 0.35
      rc = 1.4 * interphaseRN
      arC = 1.5
      irrC = 0.03
      cortex *= 2
      actin *= 1.2
      tubulin *= 1.3
      sfMean = 0
      fociMean *= 0.3
      damage *= 1.5
      for sign: Float in [-1, 1] {
        let d = 0.5 * rn * sign
        chromatin.append(
          Outline(
            cx: x + d * Foundation.cos(spindle), cy: y + d * Foundation.sin(spindle),
            radius: 0.38 * rn, ratio: 3.0, angle: spindle + Float.pi / 2, irregularity: 0.05,
            rng: &shapeRNG))
      }
    }
    let cellAngle = stage == .anaphase ? spindle : theta
    let cell = Outline(
      cx: cellX, cy: cellY, radius: rc, ratio: arC, angle: cellAngle, irregularity: irrC,
      rng: &shapeRNG)
    let texture = ValueNoise(cx: x, cy: y, radius: rn, rng: &textureRNG)
    let cytoplasm = ValueNoise(cx: cellX, cy: cellY, radius: 0.6 * rc, rng: &textureRNG)

    // DNA-damage foci inside the chromatin.
    var foci: [Spot] = []
    let fociCount = min(40, fociRNG.poisson(Double(fociMean)))
    let focusSigma = max(0.55, focusSigma96 * unit)
    for _ in 0..<fociCount {
      let body = chromatin[fociRNG.int(below: chromatin.count)]
      let (fx, fy) = body.randomInterior(&fociRNG, shrink: 0.85)
      let amount = focusTotal96 * unit * unit * fociScale * lognormal(0.5, &fociRNG)
      foci.append(Spot(x: fx, y: fy, sigma: focusSigma, amount: amount))
    }

    // Nucleoli: dips of the DNA stain in interphase nuclei.
    var nucleoli: [Spot] = []
    if stage == .interphase {
      let n = min(5, 1 + nucleoliRNG.poisson(1.2))
      for _ in 0..<n {
        let (nx, ny) = chromatin[0].randomInterior(&nucleoliRNG, shrink: 0.55)
        nucleoli.append(
          Spot(
            x: nx, y: ny, sigma: max(0.5, rn * Float(nucleoliRNG.uniform(0.1, 0.17))),
            amount: Float(nucleoliRNG.uniform(0.3, 0.55))))
      }
    }

    // Microtubules: an interphase aster around one centrosome, or a spindle between two poles.
    var centrosomes: [Spot] = []
    var microtubules: [Fibre] = []
    let bend = 0.01 / unit
    // Small crops cannot resolve single microtubules: fewer, brighter ones give the same image
    // statistics for less work (the total tubulin in fibres is unchanged).
    let mtThinning = min(1, 0.35 + 0.65 * unit)
    let mtDeposit = microtubuleDeposit96 * unit / mtThinning
    let spotSigma = max(0.6, 1.5 * unit)
    let centrosomeTotal = centrosomeTotal96 * unit * unit
    func aster(_ sx: Float, _ sy: Float, count: Int, length: Float, _ g: inout RandomGenerator) {
      for _ in 0..<count {
        // Microtubules leave the centrosome in all directions and meander towards the edge.
        let start = Float(g.uniform(0.5, 3)) * unit
        let angle = Float(g.uniform()) * 2 * Float.pi
        microtubules.append(
          Fibre(
            x: sx + start * Foundation.cos(angle), y: sy + start * Foundation.sin(angle),
            angle: angle, curvature: bend * Float(g.normal()),
            deposit: mtDeposit * lognormal(0.4, &g), maxLength: length, twoSided: false,
            wiggle: Float(g.uniform(0.1, 0.35)),
            wiggleFrequency: Float(g.uniform(0.08, 0.25)) / unit,
            wigglePhase: Float(g.uniform()) * 2 * Float.pi))
      }
    }
    switch stage {
    case .interphase:
      let d = rn * 1.05 + unit
      let sx = x + d * Foundation.cos(offsetAngle)
      let sy = y + d * Foundation.sin(offsetAngle)
      centrosomes.append(Spot(x: sx, y: sy, sigma: spotSigma, amount: centrosomeTotal))
      let count = max(1, Int((mtThinning * mtCount * lognormal(0.15, &tubulinRNG)).rounded()))
      aster(sx, sy, count: count, length: 3 * rc, &tubulinRNG)
    case .prophase:
      for sign: Float in [-1, 1] {
        let d = rn * 1.05 + unit
        let sx = x + sign * d * Foundation.cos(spindle)
        let sy = y + sign * d * Foundation.sin(spindle)
        centrosomes.append(Spot(x: sx, y: sy, sigma: spotSigma, amount: centrosomeTotal))
        aster(sx, sy, count: max(1, Int(mtThinning * mtCount / 3)), length: 0.8 * rc, &tubulinRNG)
      }
    case .metaphase, .anaphase:
      let pole = (stage == .metaphase ? 0.9 : 1.15) * interphaseRN
      for sign: Float in [-1, 1] {
        let sx = x + sign * pole * Foundation.cos(spindle)
        let sy = y + sign * pole * Foundation.sin(spindle)
        centrosomes.append(Spot(x: sx, y: sy, sigma: spotSigma, amount: 1.5 * centrosomeTotal))
        let inward = spindle + (sign > 0 ? Float.pi : 0)
        for _ in 0..<16 {
          microtubules.append(
            Fibre(
              x: sx, y: sy, angle: inward + 0.45 * Float(tubulinRNG.normal()), curvature: 0,
              deposit: 1.5 * mtDeposit * lognormal(0.3, &tubulinRNG), maxLength: pole * 1.05,
              twoSided: false))
        }
        for _ in 0..<8 {
          microtubules.append(
            Fibre(
              x: sx, y: sy, angle: inward + Float.pi + 1.2 * Float(tubulinRNG.normal()),
              curvature: 0, deposit: mtDeposit * lognormal(0.3, &tubulinRNG),
              maxLength: 0.5 * pole, twoSided: false))
        }
      }
    }

    // Stress fibres along the long axis, spread across the cell's width.
    var stressFibres: [Fibre] = []
    let sfCount = min(30, actinRNG.poisson(Double(sfMean)))
    let perp = cellAngle + Float.pi / 2
    for _ in 0..<sfCount {
      let o = Float(actinRNG.uniform(-0.85, 0.85)) * cell.b
      stressFibres.append(
        Fibre(
          x: cellX + o * Foundation.cos(perp), y: cellY + o * Foundation.sin(perp),
          angle: cellAngle + sfSpread * Float(actinRNG.normal()),
          curvature: 0.3 * bend * Float(actinRNG.normal()),
          deposit: stressFibreDeposit96 * unit * lognormal(0.45, &actinRNG),
          maxLength: Float(actinRNG.uniform(0.4, 1.3)) * rc, twoSided: true))
    }

    return CellModel(
      stage: stage, cell: cell, chromatin: chromatin, texture: texture, cytoplasm: cytoplasm,
      cellRadius: rc, nucleusRadius: rn, dnaLevel: dna, textureContrast: texC,
      damageLevel: damage, tubulinLevel: tubulin, actinLevel: actin, cortexLevel: cortex,
      cortexWidth: max(0.7, 2.0 * unit), foci: foci, nucleoli: nucleoli,
      centrosomes: centrosomes, microtubules: microtubules, stressFibres: stressFibres)
  }
}
