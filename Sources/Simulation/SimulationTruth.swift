import Foundation
import OPSData

/// The values of one dataset to be written into a cell store.
public enum TruthValues: Sendable, Equatable {
  /// int32 values in row-major order with the given shape.
  case int32([Int32], shape: [Int])
  /// float32 values in row-major order with the given shape.
  case float32([Float], shape: [Int])
  /// Variable-length UTF-8 strings, shape [count].
  case strings([String])

  /// The dataset's shape.
  public var shape: [Int] {
    switch self {
    case .int32(_, let shape), .float32(_, let shape): return shape
    case .strings(let values): return [values.count]
    }
  }
}

/// A named dataset: its absolute HDF5 path and values.
public struct TruthDataset: Sendable, Equatable {
  /// Absolute path in the store, for example `/truth/complex`.
  public let path: String
  /// The values and shape.
  public let values: TruthValues

  /// A dataset at `path`.
  public init(_ path: String, _ values: TruthValues) {
    self.path = path
    self.values = values
  }
}

/// Everything the simulator knows about a screen besides the pixels: the ground truth.
///
/// Genes are indexed as in the store's `/genes` (the complexes table's genes in row order, then the
/// control), batches as in `/batches`. Matrices are row-major `[Float]`.
///
/// How it maps to the cell store (`datasets` lists exactly these):
///
/// | dataset | type, shape | from |
/// |---|---|---|
/// | `/genes` | strings [G] | `geneNames` (the control, `controlName`, is last) |
/// | `/batches` | strings [B] | `batchNames` |
/// | `/truth/complex` | int32 [G] | `complexOfGene`: index into `/truth/complex_names`, -1 for none (the control) |
/// | `/truth/complex_names` | strings [K] | `complexNames` |
/// | `/truth/complex_ids` | strings [K] | `complexIDs` (CORUM ComplexIDs) |
/// | `/truth/phenotype` | float32 [G, P] | `genePhenotypes`: each gene's shift in trait standard deviations |
/// | `/truth/phenotype_names` | strings [P] | `parameterNames` |
/// | `/truth/complex_direction` | float32 [K, P] | `complexDirections` (unit vectors) |
/// | `/truth/complex_strength` | float32 [K] | `complexStrengths` |
/// | `/truth/gene_effect_size` | float32 [G] | `geneEffectSizes` (norm of each phenotype row; 0 = no effect) |
/// | `/truth/gene_penetrance` | float32 [G] | `genePenetrance` |
/// | `/truth/gene_batch_counts` | int32 [G, B] | `geneBatchCounts`: cells of each gene in each batch |
/// | `/truth/batch_effect` | float32 [B, E] | `batchEffects`: each batch's imaging conditions |
/// | `/truth/plate_effect` | float32 [L, E] | `plateEffects`: the conditions each plate was imaged under |
/// | `/truth/effect_names` | strings [E] | `effectNames` (`gain_dna`, …, `debris_rate`) |
/// | `/truth/plate_names` | strings [L] | `plateNames` (`B1-P1`, …) |
/// | `/truth/plate_batch` | int32 [L] | `plateBatch` |
/// | `/truth/config` | strings [1] | `configJSON`: the `SimulationConfig` as JSON |
///
/// An arrayed screen adds the datasets of `ArrayedTruth` (cell lines and wells) after these.
///
/// Per-cell truth (`/obs/plate`, `/obs/well`, `/truth/cell_traits`, …) comes with each chunk; see
/// `SimulatedChunk.datasets`. The store's root attributes take `channels` from `channelNames` and
/// `control` from `controlName`.
public struct SimulationTruth: Sendable, Equatable {
  /// Gene symbols, [G]; the control label is last.
  public let geneNames: [String]
  /// The control's gene label.
  public let controlName: String
  /// Index of the control in `geneNames`.
  public let controlIndex: Int
  /// Channel names, [C].
  public let channelNames: [String]
  /// Complex index of each gene, -1 for none, [G].
  public let complexOfGene: [Int32]
  /// Complex names, [K].
  public let complexNames: [String]
  /// Complex identifiers, [K].
  public let complexIDs: [String]
  /// Trait names, [P].
  public let parameterNames: [String]
  /// Phenotype shift of each gene, [G, P] row-major.
  public let genePhenotypes: [Float]
  /// Unit phenotype direction of each complex, [K, P] row-major.
  public let complexDirections: [Float]
  /// Strength of each complex in trait standard deviations (after `--phenotype-strength`), [K].
  public let complexStrengths: [Float]
  /// Norm of each gene's phenotype vector, [G].
  public let geneEffectSizes: [Float]
  /// Fraction of each gene's cells that show its phenotype, [G].
  public let genePenetrance: [Float]
  /// Batch names, [B].
  public let batchNames: [String]
  /// Plate names, [L] with L = B × platesPerBatch.
  public let plateNames: [String]
  /// Batch index of each plate, [L].
  public let plateBatch: [Int32]
  /// Names of the imaging parameters, [E].
  public let effectNames: [String]
  /// Imaging conditions of each batch, [B, E] row-major.
  public let batchEffects: [Float]
  /// Imaging conditions of each plate (its batch's, moved by the plate's own deviation), [L, E].
  public let plateEffects: [Float]
  /// Cells of each gene in each batch, [G, B] row-major.
  public let geneBatchCounts: [Int32]
  /// The configuration that produced the screen.
  public let config: SimulationConfig
  /// Cell lines and wells of an arrayed screen; nil for a pooled one.
  public internal(set) var arrayed: ArrayedTruth? = nil

  /// Number of genes, control included.
  public var geneCount: Int { geneNames.count }
  /// Number of traits.
  public var parameterCount: Int { parameterNames.count }

  /// The phenotype vector of gene `g`.
  public func phenotype(ofGene g: Int) -> ArraySlice<Float> {
    genePhenotypes[(g * parameterCount)..<((g + 1) * parameterCount)]
  }

  /// The configuration as compact JSON with sorted keys.
  public var configJSON: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let data = try? encoder.encode(config), let text = String(data: data, encoding: .utf8)
    else { return "{}" }
    return text
  }

  /// The truth as cell-store datasets (see the table above), `/genes` and `/batches` first.
  public var datasets: [TruthDataset] {
    let g = geneCount
    let k = complexNames.count
    let p = parameterCount
    let b = batchNames.count
    let l = plateNames.count
    let e = effectNames.count
    let extra =
      arrayed?.datasets(traits: p, channels: channelNames.count, genes: g, effects: e) ?? []
    return [
      TruthDataset("/genes", .strings(geneNames)),
      TruthDataset("/batches", .strings(batchNames)),
      TruthDataset("/truth/complex", .int32(complexOfGene, shape: [g])),
      TruthDataset("/truth/complex_names", .strings(complexNames)),
      TruthDataset("/truth/complex_ids", .strings(complexIDs)),
      TruthDataset("/truth/phenotype", .float32(genePhenotypes, shape: [g, p])),
      TruthDataset("/truth/phenotype_names", .strings(parameterNames)),
      TruthDataset("/truth/complex_direction", .float32(complexDirections, shape: [k, p])),
      TruthDataset("/truth/complex_strength", .float32(complexStrengths, shape: [k])),
      TruthDataset("/truth/gene_effect_size", .float32(geneEffectSizes, shape: [g])),
      TruthDataset("/truth/gene_penetrance", .float32(genePenetrance, shape: [g])),
      TruthDataset("/truth/gene_batch_counts", .int32(geneBatchCounts, shape: [g, b])),
      TruthDataset("/truth/batch_effect", .float32(batchEffects, shape: [b, e])),
      TruthDataset("/truth/plate_effect", .float32(plateEffects, shape: [l, e])),
      TruthDataset("/truth/effect_names", .strings(effectNames)),
      TruthDataset("/truth/plate_names", .strings(plateNames)),
      TruthDataset("/truth/plate_batch", .int32(plateBatch, shape: [l])),
      TruthDataset("/truth/config", .strings([configJSON])),
    ] + extra
  }
}
