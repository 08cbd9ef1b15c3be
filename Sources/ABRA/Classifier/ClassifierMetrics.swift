import GrapeSupport
import Foundation
import TensorCore
import NeuralNet

/// Accuracy at one test-time-adaptation batch size over several random chunkings (paper Fig. 7).
public struct TTACurvePoint: Codable, Equatable, Sendable {
  /// Cells per AdaBN mini-batch.
  public var batchSize: Int
  /// Mean accuracy over the runs.
  public var mean: Double
  /// Sample standard deviation over the runs (0 for one run).
  public var std: Double
  /// Accuracy of each run (a different random chunking of every held-out batch).
  public var runs: [Double]

  /// A point from the accuracy of each run; mean and sample standard deviation are computed.
  public init(batchSize: Int, runs: [Double]) {
    self.batchSize = batchSize
    self.runs = runs
    let m = runs.isEmpty ? 0 : runs.reduce(0, +) / Double(runs.count)
    mean = m
    std = runs.count > 1 ? (runs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(runs.count - 1)).squareRoot() : 0
  }

  enum CodingKeys: String, CodingKey {
    case batchSize = "batch_size"
    case mean, std, runs
  }
}

/// The contents of `grape classify evaluate`'s `DIR/metrics.json` (INTERFACES.md):
/// `{"method": "abra", "tta": false, "accuracy": 0.74, "per_batch": {"B1": 0.7}, "per_group": {}}`
/// plus extra keys: `tta_batch`, `cells`, `cells_per_batch`, `chance`, `held_out`,
/// `evaluated_batches` and, when computed, `tta_batch_size_curve`; `train_accuracy`,
/// `train_cells`, `validation_accuracy`, `validation_cells` and `validation_fraction` put the
/// training and validation accuracy beside the held-out `accuracy`.
///
/// `accuracy` is the fraction of evaluated cells classified correctly (every cell counts once);
/// `per_batch` the same within each evaluated batch; `per_group` is empty (no grouping of batches
/// is known).
public struct ClassifierMetrics: Codable, Equatable, Sendable {
  /// The training method of the run.
  public var method: String
  /// Whether AdaBN test-time adaptation was used.
  public var tta: Bool
  /// Accuracy over all evaluated cells.
  public var accuracy: Double
  /// Accuracy per evaluated batch, by name.
  public var perBatch: [String: Double]
  /// Accuracy per group of batches (empty).
  public var perGroup: [String: Double]
  /// Cells per AdaBN mini-batch (with TTA).
  public var ttaBatch: Int?
  /// Number of evaluated cells.
  public var cells: Int
  /// Number of evaluated cells per batch.
  public var cellsPerBatch: [String: Int]
  /// Accuracy of guessing (1 / number of genes).
  public var chance: Double
  /// Whether the evaluated batches were held out of training (false when the run held out none
  /// and every batch was evaluated).
  public var heldOut: Bool
  /// The evaluated batches, in store order.
  public var evaluatedBatches: [String]
  /// Accuracy against the AdaBN batch size, when requested.
  public var ttaBatchSizeCurve: [TTACurvePoint]?
  /// Accuracy on a seeded subset of the training cells, scored as the held-out cells are.
  public var trainAccuracy: Double?
  /// Training cells scored.
  public var trainCells: Int?
  /// Accuracy on the run's validation cells (cells of the training batches kept out of
  /// training); absent when the run kept none.
  public var validationAccuracy: Double?
  /// Validation cells scored.
  public var validationCells: Int?
  /// The run's `validation_fraction`.
  public var validationFraction: Double?

  /// Metrics with every field given.
  public init(
    method: String, tta: Bool, accuracy: Double, perBatch: [String: Double], perGroup: [String: Double] = [:], ttaBatch: Int? = nil,
    cells: Int, cellsPerBatch: [String: Int], chance: Double, heldOut: Bool, evaluatedBatches: [String], ttaBatchSizeCurve: [TTACurvePoint]? = nil
  ) {
    self.method = method
    self.tta = tta
    self.accuracy = accuracy
    self.perBatch = perBatch
    self.perGroup = perGroup
    self.ttaBatch = ttaBatch
    self.cells = cells
    self.cellsPerBatch = cellsPerBatch
    self.chance = chance
    self.heldOut = heldOut
    self.evaluatedBatches = evaluatedBatches
    self.ttaBatchSizeCurve = ttaBatchSizeCurve
  }

  // Explicit keys: a key strategy would also rewrite batch names used as dictionary keys.
  enum CodingKeys: String, CodingKey {
    case method, tta, accuracy, cells, chance
    case perBatch = "per_batch"
    case perGroup = "per_group"
    case ttaBatch = "tta_batch"
    case cellsPerBatch = "cells_per_batch"
    case heldOut = "held_out"
    case evaluatedBatches = "evaluated_batches"
    case ttaBatchSizeCurve = "tta_batch_size_curve"
    case trainAccuracy = "train_accuracy"
    case trainCells = "train_cells"
    case validationAccuracy = "validation_accuracy"
    case validationCells = "validation_cells"
    case validationFraction = "validation_fraction"
  }

  /// Pretty-printed JSON with sorted keys.
  public func jsonData() throws -> Data {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try enc.encode(self)
  }

  /// Writes `directory/metrics.json` atomically (creating the folder).
  /// - Returns: the file's path.
  @discardableResult
  public func write(toDirectory directory: String) throws -> String {
    try Folder.create(directory)
    let path = "\(directory)/metrics.json"
    try AtomicFile.write(try jsonData(), to: path)
    return path
  }
}

/// Per-gene mean penultimate features of the classifier: an embedding matrix genes × d.
public struct GeneFeatureMatrix: Sendable {
  /// Gene names, in row order.
  public var genes: [String]
  /// Feature size d.
  public var dim: Int
  /// Row-major [genes.count × dim] means; rows of genes without cells are zeros.
  public var values: [Float]
  /// Number of cells averaged in each row.
  public var counts: [Int]

  /// Row `i` as an array.
  public func row(_ i: Int) -> [Float] { Array(values[(i * dim)..<((i + 1) * dim)]) }
}
