/// The ground truth an arrayed screen adds to `SimulationTruth`: cell lines and wells.
///
/// | dataset | type, shape | meaning |
/// |---|---|---|
/// | `/truth/cell_line_names` | strings [L] | cell line names (`HEPG2`, `HUVEC`, …) |
/// | `/truth/batch_cell_line` | int32 [B] | cell line of each experiment (batch) |
/// | `/truth/cell_line_traits` | float32 [L, P] | baseline trait shift of each line (control SDs) |
/// | `/truth/cell_line_gain` | float32 [L, C] | channel gain of each line |
/// | `/truth/cell_line_phenotype_factor` | float32 [L, G] | how strongly each gene's phenotype shows in each line (0 = absent) |
/// | `/truth/well_gene` | int32 [W] | the one gene of each well |
/// | `/truth/well_batch` | int32 [W] | experiment of each well |
/// | `/truth/well_plate` | int32 [W] | plate of each well (index into `/truth/plate_names`) |
/// | `/truth/well_position` | int32 [W] | position of each well in its plate (`/obs/well` of its cells) |
/// | `/truth/well_effect` | float32 [W, E] | the imaging conditions of each well (its plate's, with the well's own intensity and density) |
///
/// Per cell, `/obs/cell_line` (int32 [N], index into `/truth/cell_line_names`) comes with each
/// chunk.
public struct ArrayedTruth: Sendable, Equatable {
  /// Cell line names, [L].
  public let cellLineNames: [String]
  /// Cell line of each batch, [B].
  public let batchCellLine: [Int32]
  /// Baseline trait shift of each line, [L, P].
  public let cellLineTraits: [Float]
  /// Channel gain of each line, [L, C].
  public let cellLineGain: [Float]
  /// Phenotype factor of each gene in each line, [L, G].
  public let cellLinePhenotypeFactor: [Float]
  /// Gene of each well, [W].
  public let wellGene: [Int32]
  /// Experiment of each well, [W].
  public let wellBatch: [Int32]
  /// Plate of each well, [W].
  public let wellPlate: [Int32]
  /// Position of each well in its plate, [W].
  public let wellPosition: [Int32]
  /// Imaging conditions of each well, [W, E].
  public let wellEffects: [Float]

  /// Number of wells.
  public var wellCount: Int { wellGene.count }

  /// The datasets of the table above, given the number of traits, channels, genes and effect
  /// parameters.
  func datasets(traits p: Int, channels c: Int, genes g: Int, effects e: Int) -> [TruthDataset] {
    let l = cellLineNames.count
    let w = wellCount
    return [
      TruthDataset("/truth/cell_line_names", .strings(cellLineNames)),
      TruthDataset("/truth/batch_cell_line", .int32(batchCellLine, shape: [batchCellLine.count])),
      TruthDataset("/truth/cell_line_traits", .float32(cellLineTraits, shape: [l, p])),
      TruthDataset("/truth/cell_line_gain", .float32(cellLineGain, shape: [l, c])),
      TruthDataset(
        "/truth/cell_line_phenotype_factor", .float32(cellLinePhenotypeFactor, shape: [l, g])),
      TruthDataset("/truth/well_gene", .int32(wellGene, shape: [w])),
      TruthDataset("/truth/well_batch", .int32(wellBatch, shape: [w])),
      TruthDataset("/truth/well_plate", .int32(wellPlate, shape: [w])),
      TruthDataset("/truth/well_position", .int32(wellPosition, shape: [w])),
      TruthDataset("/truth/well_effect", .float32(wellEffects, shape: [w, e])),
    ]
  }
}
