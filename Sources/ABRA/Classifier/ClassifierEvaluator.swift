import GrapeSupport
import Foundation
import Training
import NeuralNet
import TensorCore

/// Settings of ``ClassifierEvaluator/evaluate(source:options:)``.
public struct ClassifierEvaluationOptions: Sendable {
  /// Use AdaBN test-time adaptation.
  public var tta: Bool
  /// Cells per AdaBN mini-batch (drawn from one held-out batch).
  public var ttaBatch: Int
  /// Seed of the random chunkings.
  public var seed: UInt64
  /// Cells per forward pass without adaptation (memory only; results do not depend on it).
  public var chunkSize: Int
  /// AdaBN batch sizes of the accuracy curve (paper Fig. 7); empty for none.
  public var curveSizes: [Int]
  /// Random chunkings per curve point.
  public var curveRepeats: Int
  /// Also score the run's validation cells and a subset of its training cells
  /// (``ClassifierSplit``), so train, validation and held-out accuracy read side by side.
  public var splits: Bool
  /// Training cells scored (a seeded subset; at least as many as there are validation cells).
  public var trainSubsetCells: Int

  /// Options; defaults no TTA, TTA batch 64, seed 0, no curve (5 repeats when sizes are given).
  public init(
    tta: Bool = false, ttaBatch: Int = 64, seed: UInt64 = 0, chunkSize: Int = 256, curveSizes: [Int] = [], curveRepeats: Int = 5,
    splits: Bool = true, trainSubsetCells: Int = 2000
  ) {
    self.splits = splits
    self.trainSubsetCells = trainSubsetCells
    self.tta = tta
    self.ttaBatch = ttaBatch
    self.seed = seed
    self.chunkSize = chunkSize
    self.curveSizes = curveSizes
    self.curveRepeats = curveRepeats
  }

  /// The batch sizes of paper Fig. 7.
  public static let figure7Sizes = [8, 16, 32, 64, 128]
}

/// Evaluates a trained classifier on the batches held out of its training
/// (`grape classify evaluate`).
///
/// Without TTA the model runs in evaluation mode: BatchNorm uses its running statistics and the
/// perturbation layers are off. With AdaBN (Li et al., 2016) every BatchNorm normalises by the
/// statistics of the current test mini-batch instead: each held-out batch's cells are shuffled
/// and cut into chunks of `ttaBatch` cells (a final single cell joins the previous chunk, since
/// one cell gives no batch statistics of its own), and each chunk is classified with its own
/// statistics. Accuracy counts every cell once, which equals the mean over chunks when chunks
/// are of equal size.
public final class ClassifierEvaluator {
  /// The run's configuration.
  public let config: ClassifierConfig
  /// The trained model, in evaluation mode.
  public let model: CellClassifier
  private(set) var input: ClassifierInput
  /// The batches (and cell count) of the source `input` was last bound to.
  private var boundTo: ([String], Int)?

  /// Loads the newest checkpoint of a classifier run.
  /// - Throws: ``ABRAError/invalidRun(path:reason:)`` for a folder without a classifier
  ///   configuration, checkpoint or fitting weights.
  public convenience init(run: RunFolder) throws {
    let config = try ClassifierConfig.read(run: run)
    let ckpt: String?
    do {
      ckpt = try run.latestCheckpoint()
    } catch let e as TrainingError {
      throw ABRAError.invalidRun(path: run.latestPath, reason: e.description)
    }
    guard let ckpt else { throw ABRAError.invalidRun(path: run.path, reason: "has no checkpoint (checkpoints/latest is missing)") }
    let file = "\(ckpt)/weights.safetensors"
    guard FileManager.default.fileExists(atPath: file) else { throw ABRAError.invalidRun(path: file, reason: "missing") }
    var rng = RandomGenerator(seed: 0)
    let model = CellClassifier(config: config, rng: &rng)
    do {
      try model.load(try SafeTensors.read(file).tensors)
    } catch let e as StateDictError {
      throw ABRAError.invalidRun(path: file, reason: e.description)
    }
    self.init(config: config, model: model)
  }

  /// Evaluates an in-memory model.
  public init(config: ClassifierConfig, model: CellClassifier) {
    self.config = config
    self.model = model
    input = ClassifierInput(config: config)
    model.eval()
  }

  /// Accuracy on the held-out batches (every batch when the run held out none).
  ///
  /// - Throws: ``ABRAError`` when the data does not fit the run, a held-out batch is missing
  ///   from the data or has no cells, or (with TTA) has a single cell.
  public func evaluate(source: CellSource, options: ClassifierEvaluationOptions = ClassifierEvaluationOptions()) throws -> ClassifierMetrics {
    guard options.ttaBatch >= 2 else { throw ABRAError.invalidConfig("--tta-batch must be at least 2, got \(options.ttaBatch)") }
    try bind(source)
    let groups = try evaluationBatches(source, tta: options.tta || !options.curveSizes.isEmpty)
    var splitScores: (train: SplitAccuracy, validation: SplitAccuracy?)?
    if options.splits, source.batchNames == config.batches {
      splitScores = try splitAccuracies(source: source, options: options)
    }
    var rng = RandomGenerator(seed: options.seed)
    var perBatch: [String: Double] = [:]
    var cellsPerBatch: [String: Int] = [:]
    var hits = 0
    var total = 0
    for (name, cells) in groups {
      let predicted = try predict(source: source, cells: cells, tta: options.tta, ttaBatch: options.ttaBatch, chunkSize: options.chunkSize, rng: &rng)
      let h = zip(predicted, cells).filter { $0 == source.geneOfCell[$1] }.count
      perBatch[name] = Double(h) / Double(cells.count)
      cellsPerBatch[name] = cells.count
      hits += h
      total += cells.count
    }
    var curve: [TTACurvePoint]?
    if !options.curveSizes.isEmpty {
      curve = try ttaBatchSizeCurve(source: source, sizes: options.curveSizes, repeats: options.curveRepeats, seed: options.seed &+ 1)
    }
    var metrics = ClassifierMetrics(
      method: config.method.rawValue, tta: options.tta, accuracy: Double(hits) / Double(max(total, 1)), perBatch: perBatch,
      ttaBatch: options.tta ? options.ttaBatch : nil, cells: total, cellsPerBatch: cellsPerBatch, chance: 1 / Double(config.genes.count),
      heldOut: !config.holdoutBatches.isEmpty, evaluatedBatches: groups.map(\.0), ttaBatchSizeCurve: curve)
    if let splitScores {
      metrics.trainAccuracy = splitScores.train.accuracy
      metrics.trainCells = splitScores.train.cells
      metrics.validationAccuracy = splitScores.validation?.accuracy
      metrics.validationCells = splitScores.validation?.cells
      metrics.validationFraction = config.validationFraction
    }
    return metrics
  }

  /// Accuracy and size of one split.
  public struct SplitAccuracy: Sendable, Equatable {
    /// Share of the cells classified correctly.
    public var accuracy: Double
    /// Cells scored.
    public var cells: Int
  }

  /// Accuracy on a subset of the training cells (as many as there are validation cells, at
  /// least `options.trainSubsetCells`) and on the validation cells, each batch's cells
  /// classified as the held-out ones are (with AdaBN: random chunks of one batch).
  public func splitAccuracies(source: CellSource, options: ClassifierEvaluationOptions) throws -> (train: SplitAccuracy, validation: SplitAccuracy?) {
    try bind(source)
    let split = try ClassifierSplit(config: config, source: source)
    let trainCells = split.trainingSubset(count: max(options.trainSubsetCells, split.validation.count), seed: options.seed &+ 7)
    var rng = RandomGenerator(seed: options.seed &+ 3)
    let train = try accuracy(source: source, cells: trainCells, options: options, rng: &rng)
    let validation = split.validation.isEmpty ? nil : try accuracy(source: source, cells: split.validation, options: options, rng: &rng)
    return (train, validation)
  }

  /// Accuracy on `cells`, batch by batch.
  private func accuracy(source: CellSource, cells: [Int], options: ClassifierEvaluationOptions, rng: inout RandomGenerator) throws -> SplitAccuracy {
    var byBatch: [Int: [Int]] = [:]
    for c in cells { byBatch[source.batchOfCell[c], default: []].append(c) }
    var hits = 0
    for b in byBatch.keys.sorted() {
      guard let group = byBatch[b] else { continue }
      // AdaBN needs two cells of a batch; a lone cell is classified with running statistics.
      let adapt = options.tta && group.count >= 2
      let predicted = try predict(source: source, cells: group, tta: adapt, ttaBatch: options.ttaBatch, chunkSize: options.chunkSize, rng: &rng)
      hits += zip(predicted, group).filter { $0 == source.geneOfCell[$1] }.count
    }
    return SplitAccuracy(accuracy: Double(hits) / Double(max(cells.count, 1)), cells: cells.count)
  }

  /// Completes a per-batch `controls` input transform with the statistics of `source`'s batches
  /// the run has none for, each from its own control cells.
  func bind(_ source: CellSource) throws {
    if let b = boundTo, b.0 == source.batchNames, b.1 == source.cellCount { return }
    input = try ClassifierInput(config: config).bound(to: source)
    boundTo = (source.batchNames, source.cellCount)
  }

  /// AdaBN accuracy over all evaluated cells against the test batch size: for every size,
  /// `repeats` random chunkings of every evaluated batch (paper Fig. 7).
  public func ttaBatchSizeCurve(source: CellSource, sizes: [Int], repeats: Int, seed: UInt64) throws -> [TTACurvePoint] {
    guard sizes.allSatisfy({ $0 >= 2 }) else { throw ABRAError.invalidConfig("TTA batch sizes must be at least 2, got \(sizes)") }
    guard repeats >= 1 else { throw ABRAError.invalidConfig("the TTA curve needs at least one repeat, got \(repeats)") }
    try bind(source)
    let groups = try evaluationBatches(source, tta: true)
    var rng = RandomGenerator(seed: seed)
    var points: [TTACurvePoint] = []
    for size in sizes {
      var runs: [Double] = []
      for _ in 0..<repeats {
        var hits = 0
        var total = 0
        for (_, cells) in groups {
          let predicted = try predict(source: source, cells: cells, tta: true, ttaBatch: size, chunkSize: size, rng: &rng)
          hits += zip(predicted, cells).filter { $0 == source.geneOfCell[$1] }.count
          total += cells.count
        }
        runs.append(Double(hits) / Double(max(total, 1)))
      }
      points.append(TTACurvePoint(batchSize: size, runs: runs))
    }
    return points
  }

  /// Predicted gene of each cell; with `tta` the cells must all come from one batch, and they
  /// are classified in random chunks of `ttaBatch` with AdaBN.
  public func predict(source: CellSource, cells: [Int], tta: Bool, ttaBatch: Int = 64, chunkSize: Int = 256, rng: inout RandomGenerator) throws -> [Int] {
    var predicted = [Int](repeating: 0, count: cells.count)
    try checkData(source)
    try bind(source)
    if let bad = cells.first(where: { $0 < 0 || $0 >= source.cellCount }) {
      throw ABRAError.dataMismatch("cell index \(bad) outside 0..<\(source.cellCount)")
    }
    if tta {
      guard ttaBatch >= 2 else { throw ABRAError.invalidConfig("--tta-batch must be at least 2, got \(ttaBatch)") }
      let batches = Set(cells.map { source.batchOfCell[$0] })
      guard batches.count <= 1 else {
        throw ABRAError.dataMismatch("AdaBN statistics must come from one batch; the cells span \(batches.count) batches")
      }
      guard cells.count != 1 else { throw ABRAError.singleCellBatch(name: source.batchNames[source.batchOfCell[cells[0]]]) }
    }
    try forEachChunk(source, cells, tta: tta, ttaBatch: ttaBatch, chunkSize: chunkSize, rng: &rng) { positions, f in
      let p = argmaxRows(withoutGradient { model.head(f) })
      for (k, i) in positions.enumerated() { predicted[i] = p[k] }
    }
    return predicted
  }

  /// Per-gene mean penultimate features (pooled backbone output) over `cells` (all cells of the
  /// source by default), without or with AdaBN (statistics per chunk of one batch).
  public func geneFeatures(source: CellSource, cells: [Int]? = nil, tta: Bool = false, ttaBatch: Int = 64, seed: UInt64 = 0) throws -> GeneFeatureMatrix {
    try checkData(source)
    try bind(source)
    if tta, ttaBatch < 2 { throw ABRAError.invalidConfig("--tta-batch must be at least 2, got \(ttaBatch)") }
    let chosen = cells ?? Array(0..<source.cellCount)
    if let bad = chosen.first(where: { $0 < 0 || $0 >= source.cellCount }) {
      throw ABRAError.dataMismatch("cell index \(bad) outside 0..<\(source.cellCount)")
    }
    let g = config.genes.count
    let d = config.networkShape.featureDim
    var sums = [Double](repeating: 0, count: g * d)
    var counts = [Int](repeating: 0, count: g)
    var rng = RandomGenerator(seed: seed)
    var byBatch: [Int: [Int]] = [:]
    if tta {
      for i in chosen { byBatch[source.batchOfCell[i], default: []].append(i) }
    } else {
      byBatch[0] = chosen
    }
    for b in byBatch.keys.sorted() {
      guard let group = byBatch[b] else { continue }
      if tta, group.count < 2 { throw ABRAError.singleCellBatch(name: source.batchNames[b]) }
      try forEachChunk(source, group, tta: tta, ttaBatch: ttaBatch, chunkSize: 256, rng: &rng) { positions, f in
        f.withUnsafeScalars { p in
          for (k, pos) in positions.enumerated() {
            let gene = source.geneOfCell[group[pos]]
            counts[gene] += 1
            for j in 0..<d { sums[gene * d + j] += Double(p[k * d + j]) }
          }
        }
      }
    }
    var values = [Float](repeating: 0, count: g * d)
    for i in 0..<g where counts[i] > 0 {
      for j in 0..<d { values[i * d + j] = Float(sums[i * d + j] / Double(counts[i])) }
    }
    return GeneFeatureMatrix(genes: config.genes, dim: d, values: values, counts: counts)
  }

  // MARK: Internals

  /// Runs the backbone over `cells` in chunks and hands each chunk's positions (into `cells`)
  /// and pooled features (or what `forward` makes of the inputs) to `body`.
  func forEachChunk(
    _ source: CellSource, _ cells: [Int], tta: Bool, ttaBatch: Int, chunkSize: Int, rng: inout RandomGenerator,
    through forward: ((Tensor) -> Tensor)? = nil, _ body: ([Int], Tensor) throws -> Void
  ) throws {
    let pass = forward ?? { self.model.features($0) }
    var order = Array(cells.indices)
    let size: Int
    if tta {
      rng.shuffle(&order)
      size = ttaBatch
    } else {
      size = max(chunkSize, 1)
    }
    var chunks: [[Int]] = stride(from: 0, to: order.count, by: size).map { Array(order[$0..<min($0 + size, order.count)]) }
    if tta, chunks.count > 1, let last = chunks.last, last.count == 1 {
      chunks.removeLast()
      chunks[chunks.count - 1] += last
    }
    var unused = RandomGenerator(seed: 0)
    for positions in chunks {
      let x = try input.images(source, cells: positions.map { cells[$0] }, augment: false, rng: &unused)
      let f = withoutGradient { tta ? model.withBatchStatistics { pass(x) } : pass(x) }
      try body(positions, f)
    }
  }

  /// Checks that `source` has the run's genes and crop shape.
  func checkData(_ source: CellSource) throws {
    guard source.geneNames == config.genes else {
      throw ABRAError.dataMismatch("the data's genes differ from the run's (\(source.geneNames.count) vs \(config.genes.count) names)")
    }
    guard source.imageShape == config.imageShape else {
      throw ABRAError.dataMismatch("the data's crops are \(source.imageShape), the run expects \(config.imageShape)")
    }
  }

  /// The evaluated batches (held-out ones, or all when none were held out), in store order,
  /// with their cells.
  func evaluationBatches(_ source: CellSource, tta: Bool) throws -> [(String, [Int])] {
    try checkData(source)
    let names = config.holdoutBatches.isEmpty ? source.batchNames : config.holdoutBatches
    let unknown = names.filter { !source.batchNames.contains($0) }
    guard unknown.isEmpty else { throw ABRAError.unknownBatches(names: unknown, known: source.batchNames) }
    let cellsOf = source.cellsOfBatch
    var out: [(String, [Int])] = []
    for (b, name) in source.batchNames.enumerated() where names.contains(name) {
      let cells = cellsOf[b]
      if cells.isEmpty {
        // With no held-out batches every batch is evaluated; empty ones are skipped then.
        if config.holdoutBatches.isEmpty { continue }
        throw ABRAError.emptyBatch(name: name)
      }
      if tta, cells.count == 1 { throw ABRAError.singleCellBatch(name: name) }
      out.append((name, cells))
    }
    guard !out.isEmpty else { throw ABRAError.dataMismatch("the data has no cells in the batches to evaluate") }
    return out
  }
}
