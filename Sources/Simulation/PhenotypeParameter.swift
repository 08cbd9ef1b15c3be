import GrapeSupport

/// The interpretable cell traits a gene perturbation can shift.
///
/// Every trait is measured in units of its own cell-to-cell standard deviation in control cells:
/// a cell's trait value is `z + shift`, where `z ~ N(0, 1)` is natural variation (with a shared
/// cell-size/cell-cycle factor correlating size and DNA content) and `shift` is the gene's
/// phenotype vector entry when the cell is affected. A shift of 1 therefore moves the trait by one
/// control standard deviation. How the trait value `t` (bounded to ±6 when drawing) becomes
/// pixels:
///
/// | trait | rendering |
/// |---|---|
/// | `nuclear_size` | nuclear radius × exp(0.11 t) |
/// | `nuclear_eccentricity` | nuclear axis ratio 1 + 0.22 exp(0.45 t) |
/// | `nuclear_irregularity` | amplitude of the nuclear outline's harmonics, 0.045 exp(0.6 t) |
/// | `dna_intensity` | DNA stain level × exp(0.18 t) |
/// | `chromatin_texture` | contrast of the chromatin noise, 0.22 exp(0.45 t) |
/// | `foci_count` | mean number of DNA-damage foci, 2 exp(0.55 t) (Poisson) |
/// | `foci_intensity` | brightness of each focus × exp(0.35 t) |
/// | `mitotic_fraction` | liability: the cell is mitotic when t > 1.645 (5 % of controls) |
/// | `cell_area` | cell-body radius × exp(0.11 t) |
/// | `cell_eccentricity` | cell axis ratio 1 + 0.4 exp(0.45 t) |
/// | `tubulin_intensity` | microtubule stain level × exp(0.2 t) |
/// | `microtubule_density` | number of microtubules drawn, 60 exp(0.35 t), at most 400 |
/// | `actin_fibres` | mean number of stress fibres, 6 exp(0.45 t) (Poisson) |
/// | `actin_alignment` | spread of stress-fibre angles around the long axis, 0.45 exp(−0.5 t) rad |
/// | `cortical_actin` | brightness of the actin cortex at the cell edge × exp(0.3 t) |
public enum PhenotypeParameter: Int, CaseIterable, Sendable, Codable {
  /// Nuclear radius.
  case nuclearSize
  /// Elongation of the nucleus.
  case nuclearEccentricity
  /// Irregularity (blebbing, lobes) of the nuclear outline.
  case nuclearIrregularity
  /// Brightness of the DNA stain.
  case dnaIntensity
  /// Contrast of chromatin texture.
  case chromatinTexture
  /// Number of DNA-damage (γH2AX) foci.
  case fociCount
  /// Brightness of DNA-damage foci.
  case fociIntensity
  /// Fraction of cells in mitosis.
  case mitoticFraction
  /// Cell-body area.
  case cellArea
  /// Elongation of the cell body.
  case cellEccentricity
  /// Brightness of the microtubule stain.
  case tubulinIntensity
  /// Number of microtubule bundles.
  case microtubuleDensity
  /// Number of actin stress fibres.
  case actinFibres
  /// Alignment of stress fibres with the cell's long axis.
  case actinAlignment
  /// Brightness of cortical actin.
  case corticalActin

  /// The number of traits.
  public static let count = allCases.count

  /// The snake_case name used in files (`/truth/phenotype_names`).
  public var name: String {
    switch self {
    case .nuclearSize: return "nuclear_size"
    case .nuclearEccentricity: return "nuclear_eccentricity"
    case .nuclearIrregularity: return "nuclear_irregularity"
    case .dnaIntensity: return "dna_intensity"
    case .chromatinTexture: return "chromatin_texture"
    case .fociCount: return "foci_count"
    case .fociIntensity: return "foci_intensity"
    case .mitoticFraction: return "mitotic_fraction"
    case .cellArea: return "cell_area"
    case .cellEccentricity: return "cell_eccentricity"
    case .tubulinIntensity: return "tubulin_intensity"
    case .microtubuleDensity: return "microtubule_density"
    case .actinFibres: return "actin_fibres"
    case .actinAlignment: return "actin_alignment"
    case .corticalActin: return "cortical_actin"
    }
  }

  /// The names of all traits in index order.
  public static var names: [String] { allCases.map(\.name) }

  /// The liability above which a cell is mitotic (the 95th percentile of N(0, 1)).
  static let mitoticThreshold: Float = 1.6449

  /// Draws a cell's natural trait values (control-cell variation, before any gene shift).
  ///
  /// Each trait is N(0, 1); a shared factor correlates nuclear size (0.6), cell area (0.55) and
  /// DNA intensity (0.3), as cell-cycle progression and cell size do in real cells.
  static func drawNatural(_ rng: inout RandomGenerator) -> [Float] {
    var z = [Float](repeating: 0, count: count)
    let factor = Float(rng.normal())
    for p in allCases {
      let e = Float(rng.normal())
      let load: Float
      switch p {
      case .nuclearSize: load = 0.6
      case .cellArea: load = 0.55
      case .dnaIntensity: load = 0.3
      default: load = 0
      }
      z[p.rawValue] = load * factor + (1 - load * load).squareRoot() * e
    }
    return z
  }
}
