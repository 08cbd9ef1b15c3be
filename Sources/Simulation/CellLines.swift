import Foundation
import GrapeSupport

/// The cell lines of an arrayed screen: each line's baseline morphology and how strongly each
/// gene's phenotype shows in it.
///
/// Drawn once per line from the seed (streams `cellLine`, independent of the experiments, wells
/// and cells), scaled by `cellLineEffect` (`c`):
///
/// - baseline traits `t_l`: every trait shifted by `0.6 · c · z` control standard deviations, so
///   lines differ in size, shape, texture and stain levels; added to every cell of the line;
/// - channel gain `γ_lc = exp(0.25 · c · z)`: each channel's brightness in the line (staining and
///   expression level), multiplying the gain of the experiments of the line;
/// - phenotype factor `φ_lk` per complex: 0 (the pathway is inactive in the line) with
///   probability `0.15 · min(1, c)`, otherwise `exp(0.35 · c · z)` bounded to 0.25…2; gene `g` of
///   complex `k` shows `φ_lk · v_g` in the line (genes in no complex draw their own factor).
///
/// With `cellLineEffect` 0 all lines are alike: zero shift, unit gains and unit factors.
public struct CellLines: Sendable, Equatable {
  /// Cell line names, [L]: `HEPG2`, `HUVEC`, `RPE`, `U2OS` (the RxRx1 lines), then `LINE5`, ….
  public let names: [String]
  /// Baseline trait shift of each line in control standard deviations, [L, P] row-major.
  public let traitShift: [Float]
  /// Channel gain of each line, [L, C] row-major.
  public let channelGain: [Float]
  /// How strongly each gene's phenotype shows in each line, [L, G] row-major (0 = absent).
  public let phenotypeFactor: [Float]
  /// Number of genes (columns of `phenotypeFactor`).
  public let geneCount: Int
  /// Number of channels (columns of `channelGain`).
  public let channelCount: Int

  /// Spread of the baseline trait shift between lines at `cellLineEffect` 1.
  static let traitSpread: Float = 0.6
  /// Log-normal spread of the channel gain between lines at `cellLineEffect` 1.
  static let gainSpread: Float = 0.25
  /// Log-normal spread of the phenotype factor at `cellLineEffect` 1.
  static let factorSpread: Float = 0.35
  /// Probability that a complex's phenotype is absent in a line at `cellLineEffect` ≥ 1.
  static let absentRate = 0.15

  /// The RxRx1 cell types, used as the first four line names.
  static let rxrx1Names = ["HEPG2", "HUVEC", "RPE", "U2OS"]

  /// The name of line `l`.
  static func name(_ l: Int) -> String {
    l < rxrx1Names.count ? rxrx1Names[l] : "LINE\(l + 1)"
  }

  /// Draws `count` lines.
  ///
  /// - Parameters:
  ///   - count: number of lines L.
  ///   - complexOfGene: complex index of each gene, -1 for none, [G].
  ///   - complexCount: number of complexes K.
  ///   - channels: number of channels C.
  ///   - effect: `cellLineEffect`.
  ///   - seed: the simulation seed.
  init(
    count: Int, complexOfGene: [Int], complexCount: Int, channels: Int, effect: Double,
    seed: UInt64
  ) {
    let p = PhenotypeParameter.count
    let c = Float(effect)
    var shift: [Float] = []
    var gain: [Float] = []
    var factor: [Float] = []
    func drawFactor(_ rng: inout RandomGenerator) -> Float {
      let absent = rng.uniform() < Self.absentRate * min(1, effect)
      let z = Float(rng.normal())
      if absent { return 0 }
      return min(2, max(0.25, Foundation.exp(Self.factorSpread * c * z)))
    }
    for l in 0..<count {
      var rng = SeedMixer.generator(seed, .cellLine, l)
      shift += (0..<p).map { _ in Self.traitSpread * c * Float(rng.normal()) }
      gain += (0..<channels).map { _ in Foundation.exp(Self.gainSpread * c * Float(rng.normal())) }
      let complexFactor = (0..<complexCount).map { _ in drawFactor(&rng) }
      for k in complexOfGene {
        if k >= 0 && k < complexCount {
          factor.append(complexFactor[k])
        } else {
          factor.append(drawFactor(&rng))
        }
      }
    }
    names = (0..<count).map(Self.name)
    traitShift = shift
    channelGain = gain
    phenotypeFactor = factor
    geneCount = complexOfGene.count
    channelCount = channels
  }

  /// Number of lines.
  public var count: Int { names.count }

  /// The baseline trait shift of line `l`.
  public func traits(ofLine l: Int) -> ArraySlice<Float> {
    let p = PhenotypeParameter.count
    return traitShift[(l * p)..<((l + 1) * p)]
  }

  /// The channel gains of line `l`.
  public func gain(ofLine l: Int) -> ArraySlice<Float> {
    channelGain[(l * channelCount)..<((l + 1) * channelCount)]
  }

  /// How strongly gene `g`'s phenotype shows in line `l`.
  public func factor(line l: Int, gene g: Int) -> Float { phenotypeFactor[l * geneCount + g] }
}
