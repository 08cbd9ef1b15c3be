import Foundation
import OPSData

/// The settings of a simulated screen, one property per `grape simulate` flag.
///
/// | property | flag | default | meaning |
/// |---|---|---|---|
/// | `size` | `--size` | 32 | crop side in pixels, 16…128 (GRAPE's paper uses 96; the `cpu` preset 32) |
/// | `cellsPerGene` | `--cells-per-gene` | 100 | cells of each targeting gene, and of each control guide |
/// | `controls` | `--controls` | 4 | non-targeting control guides; all share the one label `controlName` |
/// | `batches` | `--batches` | 4 | experimental batches (entries of `/batches`) |
/// | `platesPerBatch` | `--plates-per-batch` | 2 | plates in each batch |
/// | `batchEffect` | `--batch-effect` | 1.0 | scale of every batch and plate difference; 0 makes all batches image alike |
/// | `phenotypeStrength` | `--phenotype-strength` | 1.0 | scale of every gene effect; 0 makes every gene look like the control |
/// | `seed` | `--seed` | 0 | the seed all randomness derives from |
/// | `wellsPerPlate` | — | 6 | wells per plate (6-well plates, as in Funk et al. 2022) |
/// | `controlName` | — | `nontargeting` | the gene label of the control cells |
/// | `arrayed` | `--layout arrayed` | nil | an arrayed screen instead of a pooled one (`ArrayedScreenConfig`) |
///
/// The control is a single gene label: the `controls` guides are pooled under it, so the control
/// gene holds `controls × cellsPerGene` cells and `/genes` lists it once (last, after the table's
/// genes).
public struct SimulationConfig: Sendable, Codable, Equatable {
  /// Crop side in pixels (16…128).
  public var size: Int = 32
  /// Cells of each targeting gene and of each control guide (at least 1).
  public var cellsPerGene: Int = 100
  /// Number of non-targeting control guides (at least 1), pooled under `controlName`.
  public var controls: Int = 4
  /// Number of experimental batches (at least 1).
  public var batches: Int = 4
  /// Plates in each batch (at least 1).
  public var platesPerBatch: Int = 2
  /// Wells in each plate (at least 1).
  public var wellsPerPlate: Int = 6
  /// Scale of all batch and plate effects (0…10; 0 = none).
  public var batchEffect: Double = 1.0
  /// Scale of all gene phenotypes (0…10; 0 = none).
  public var phenotypeStrength: Double = 1.0
  /// Seed of every random draw.
  public var seed: UInt64 = 0
  /// The gene label shared by all control cells.
  public var controlName: String = "nontargeting"
  /// The arrayed layout, or nil for a pooled screen (the default). Left out of the JSON when nil,
  /// so pooled screens record the same configuration as before arrayed screens existed.
  public var arrayed: ArrayedScreenConfig? = nil

  /// Whether the screen is arrayed (every well holds one perturbation) rather than pooled.
  public var isArrayed: Bool { arrayed != nil }

  /// Number of batches of the screen: `batches`, or the arrayed screen's experiments.
  public var batchCount: Int { arrayed?.experiments ?? batches }

  /// The default configuration (see the table above).
  public init() {}

  /// A configuration with the given values; the others keep their defaults.
  public init(
    size: Int = 32, cellsPerGene: Int = 100, controls: Int = 4, batches: Int = 4,
    platesPerBatch: Int = 2, batchEffect: Double = 1.0, phenotypeStrength: Double = 1.0,
    seed: UInt64 = 0
  ) {
    self.size = size
    self.cellsPerGene = cellsPerGene
    self.controls = controls
    self.batches = batches
    self.platesPerBatch = platesPerBatch
    self.batchEffect = batchEffect
    self.phenotypeStrength = phenotypeStrength
    self.seed = seed
  }

  /// Largest accepted value of `batchEffect` and `phenotypeStrength`.
  public static let maximumStrength = 10.0

  /// Checks every value against its range.
  ///
  /// - Throws: `SimulationError.invalidValue` naming the first flag out of range.
  public func validate() throws(SimulationError) {
    func require(_ ok: Bool, _ flag: String, _ value: String, _ requirement: String)
      throws(SimulationError)
    {
      if !ok { throw .invalidValue(flag: flag, value: value, requirement: requirement) }
    }
    try require(
      (16...128).contains(size), "--size", "\(size)", "the crop size must be in 16...128 pixels")
    try require(
      (1...1_000_000).contains(cellsPerGene), "--cells-per-gene", "\(cellsPerGene)",
      "must be in 1...1000000")
    try require(
      (1...100_000).contains(controls), "--controls", "\(controls)", "must be in 1...100000")
    try require((1...1000).contains(batches), "--batches", "\(batches)", "must be in 1...1000")
    try require(
      (1...1000).contains(platesPerBatch), "--plates-per-batch", "\(platesPerBatch)",
      "must be in 1...1000")
    try require(
      (1...384).contains(wellsPerPlate), "wells per plate", "\(wellsPerPlate)", "must be in 1...384"
    )
    let maxS = Self.maximumStrength
    try require(
      batchEffect.isFinite && batchEffect >= 0 && batchEffect <= maxS, "--batch-effect",
      "\(batchEffect)", "must be a number in 0...\(maxS) (0 = no batch effect)")
    try require(
      phenotypeStrength.isFinite && phenotypeStrength >= 0 && phenotypeStrength <= maxS,
      "--phenotype-strength", "\(phenotypeStrength)",
      "must be a number in 0...\(maxS) (0 = no gene phenotypes)")
    let trimmed = controlName.trimmingCharacters(in: .whitespacesAndNewlines)
    try require(
      !trimmed.isEmpty && trimmed == controlName && !controlName.contains("\t"), "control name",
      "\"\(controlName)\"", "must be a non-empty label without surrounding white space or tabs")
    try arrayed?.validate()
  }
}
