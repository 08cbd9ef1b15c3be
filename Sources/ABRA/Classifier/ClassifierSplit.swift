import GrapeSupport
import Training

/// The cells of a classifier run, split three ways: training, validation (cells of the training
/// batches kept out of training) and held out (the cells of the held-out batches).
///
/// The validation split is drawn per training batch: the batch's cells are shuffled with a
/// generator seeded by `seed` and the batch's index, and the first ⌊fraction · n⌋ become
/// validation cells, so every training batch contributes its share and the split does not depend
/// on the training seed (runs with different seeds, and the logistic-regression baseline, score
/// the same cells). The unit is the cell: in an arrayed screen, where a well holds one gene,
/// validation cells share wells (and their imaging conditions) with training cells, which is the
/// in-distribution question the split asks.
public struct ClassifierSplit: Sendable, Equatable {
  /// Cells trained on, in store order.
  public let training: [Int]
  /// Cells of the training batches kept out of training, in store order.
  public let validation: [Int]
  /// Cells of the held-out batches, in store order.
  public let heldOut: [Int]

  /// The split of `source`.
  ///
  /// - Parameters:
  ///   - holdoutBatches: names of the batches held out of training.
  ///   - trainBatches: the batches trained on (and validated); empty: every batch not held out.
  ///   - validationFraction: the share of each training batch's cells kept for validation, in [0, 1).
  ///   - seed: the seed of the validation draw.
  /// - Throws: ``ABRAError/unknownBatches(names:known:)`` for names the data lacks,
  ///   ``ABRAError/invalidConfig(_:)`` for a fraction outside [0, 1),
  ///   ``ABRAError/singleCellBatch(name:)`` for a training batch left with a single training cell,
  ///   ``ABRAError/noTrainingCells(heldOut:)`` when nothing is left to train on.
  public init(source: CellSource, holdoutBatches: [String], trainBatches: [String] = [], validationFraction: Double, seed: UInt64) throws {
    guard validationFraction >= 0, validationFraction < 1 else {
      throw ABRAError.invalidConfig("validation_fraction must lie in [0, 1), got \(validationFraction)")
    }
    let cells = try ClassifierTrainer.trainingCells(source: source, holdoutBatches: holdoutBatches, trainBatches: trainBatches)
    var byBatch = [[Int]](repeating: [], count: source.batchNames.count)
    for i in cells { byBatch[source.batchOfCell[i]].append(i) }
    var validation: [Int] = []
    var training: [Int] = []
    for (b, own) in byBatch.enumerated() where !own.isEmpty {
      let k = Int((validationFraction * Double(own.count)).rounded(.down))
      var shuffled = own
      var rng = RandomGenerator(seed: ClassifierSplit.batchSeed(seed, batch: b))
      rng.shuffle(&shuffled)
      validation += shuffled.prefix(k)
      let kept = shuffled.dropFirst(k)
      if kept.count == 1 { throw ABRAError.singleCellBatch(name: source.batchNames[b]) }
      training += kept
    }
    guard !training.isEmpty else { throw ABRAError.noTrainingCells(heldOut: holdoutBatches) }
    let excluded = Set(holdoutBatches.compactMap { source.batchNames.firstIndex(of: $0) })
    self.training = training.sorted()
    self.validation = validation.sorted()
    heldOut = source.batchOfCell.indices.filter { excluded.contains(source.batchOfCell[$0]) }
  }

  /// The split a run's configuration describes.
  public init(config: ClassifierConfig, source: CellSource) throws {
    try self.init(
      source: source, holdoutBatches: config.holdoutBatches, trainBatches: config.trainBatches, validationFraction: config.validationFraction,
      seed: config.validationSeed)
  }

  /// Up to `count` training cells drawn with `seed`, in store order: the subset on which
  /// training accuracy is reported beside validation and held-out accuracy.
  public func trainingSubset(count: Int, seed: UInt64) -> [Int] {
    Self.subset(of: training, count: count, seed: seed)
  }

  /// Up to `count` validation cells drawn with `seed`, in store order (the cells scored while
  /// training).
  public func validationSubset(count: Int, seed: UInt64) -> [Int] {
    Self.subset(of: validation, count: count, seed: seed)
  }

  /// Up to `count` of `cells` drawn with `seed`, in store order; all of them when there are no more.
  static func subset(of cells: [Int], count: Int, seed: UInt64) -> [Int] {
    guard count < cells.count else { return cells }
    var shuffled = cells
    var rng = RandomGenerator(seed: seed)
    rng.shuffle(&shuffled)
    return Array(shuffled.prefix(max(count, 0))).sorted()
  }

  /// The seed of one batch's validation draw.
  static func batchSeed(_ seed: UInt64, batch: Int) -> UInt64 {
    var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(batch + 1)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
