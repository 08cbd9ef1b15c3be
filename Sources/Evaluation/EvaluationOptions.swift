/// Settings of `grape evaluate`.
public struct EvaluationOptions: Sendable, Equatable {
  /// Clusters of the main k-means; `nil` means the number of complexes among the evaluated genes.
  public var k: Int?
  /// k-means runs per k (GRAPE: 100).
  public var restarts: Int
  /// Seed of every random choice (k-means runs, random baselines, subsamples).
  public var seed: UInt64
  /// The k sweep (GRAPE Fig. 4: 5–30); values above the number of genes are skipped with a
  /// warning; `nil` disables the sweep.
  public var kRange: ClosedRange<Int>?
  /// Random N(0, 1) embeddings of the evaluated shape drawn for the chance baseline (mAP averaged
  /// over draws; the k-means runs spread over the draws); 0 disables it.
  public var randomDraws: Int
  /// k-means iteration cap (scikit-learn's `max_iter`).
  public var maxIterations: Int
  /// k-means relative tolerance (scikit-learn's `tol`).
  public var tolerance: Double
  /// Batch-metric settings (used with cell codes).
  public var batch: BatchMetricOptions
  /// Whether to compute the 2-D projections drawn in the figures.
  public var projections: Bool
  /// Whether projections include t-SNE (exact, O(n²) per step).
  public var tsne: Bool
  /// Genes above which no t-SNE is computed.
  public var maxTSNEPoints: Int
  /// Gradient steps of the t-SNE (scikit-learn's `max_iter`, 1000).
  public var tsneIterations: Int
  /// Cells drawn (seeded) for the cell projections.
  public var projectedCells: Int
  /// Null draws per configuration of copairs' permutation test (copairs' `null_size`); 0 skips
  /// the significance of retrieval and the phenotypic activity of cells.
  public var nullSize: Int = 10_000
  /// Corrected p-values below this count as significant (copairs' `threshold`).
  public var significanceThreshold: Double = 0.05
  /// The tail percentile of the relationship recall (EFAAR: 5, the 5th and 95th percentiles).
  public var recallPercentile: Double = 5
  /// The control gene's name for the phenotypic activity; `nil` means `nontargeting`.
  public var control: String?
  /// Cells per gene above which the phenotypic activity uses a seeded subsample of this size.
  public var activityMaxCellsPerGene: Int = 200
  /// Control cells above which the phenotypic activity uses a seeded subsample of this size.
  public var activityMaxControlCells: Int = 2_000

  /// Defaults: k = number of complexes, 100 restarts, seed 42, sweep 5–30, 5 random draws,
  /// scikit-learn's k-means settings, figures with t-SNE.
  public init(
    k: Int? = nil, restarts: Int = 100, seed: UInt64 = 42, kRange: ClosedRange<Int>? = 5...30,
    randomDraws: Int = 5, maxIterations: Int = 300, tolerance: Double = 1e-4,
    batch: BatchMetricOptions = BatchMetricOptions(), projections: Bool = true, tsne: Bool = true,
    maxTSNEPoints: Int = 2_000, projectedCells: Int = 1_000, tsneIterations: Int = 1_000
  ) {
    self.k = k
    self.restarts = restarts
    self.seed = seed
    self.kRange = kRange
    self.randomDraws = randomDraws
    self.maxIterations = maxIterations
    self.tolerance = tolerance
    self.batch = batch
    self.projections = projections
    self.tsne = tsne
    self.maxTSNEPoints = maxTSNEPoints
    self.projectedCells = projectedCells
    self.tsneIterations = tsneIterations
  }

  /// Checks ranges; the messages name the command-line flag.
  public func validate() throws {
    if let k, k < 1 {
      throw EvaluationError.invalidOption(name: "--k", value: "\(k)", reason: "must be at least 1")
    }
    if restarts < 1 {
      throw EvaluationError.invalidOption(
        name: "--restarts", value: "\(restarts)", reason: "must be at least 1")
    }
    if let r = kRange, r.lowerBound < 1 {
      throw EvaluationError.invalidOption(
        name: "--k-range", value: "\(r.lowerBound)-\(r.upperBound)", reason: "k must be at least 1")
    }
    if randomDraws < 0 {
      throw EvaluationError.invalidOption(
        name: "--random-draws", value: "\(randomDraws)", reason: "must not be negative")
    }
    if maxIterations < 1 {
      throw EvaluationError.invalidOption(
        name: "--max-iter", value: "\(maxIterations)", reason: "must be at least 1")
    }
    if !(tolerance >= 0) {
      throw EvaluationError.invalidOption(
        name: "--tol", value: "\(tolerance)", reason: "must be ≥ 0")
    }
    if batch.classifierNeighbors < 1 || batch.graphNeighbors < 1 {
      throw EvaluationError.invalidOption(
        name: "--neighbors", value: "\(batch.classifierNeighbors)/\(batch.graphNeighbors)",
        reason: "must be at least 1")
    }
    if tsneIterations < 1 {
      throw EvaluationError.invalidOption(
        name: "--tsne-iterations", value: "\(tsneIterations)", reason: "must be at least 1")
    }
    if projectedCells < 2 {
      throw EvaluationError.invalidOption(
        name: "--projected-cells", value: "\(projectedCells)", reason: "must be at least 2")
    }
    if nullSize < 0 {
      throw EvaluationError.invalidOption(
        name: "--null-size", value: "\(nullSize)", reason: "must not be negative")
    }
    if !(significanceThreshold > 0 && significanceThreshold < 1) {
      throw EvaluationError.invalidOption(
        name: "--threshold", value: "\(significanceThreshold)", reason: "must lie in (0, 1)")
    }
    if !(recallPercentile > 0 && recallPercentile < 50) {
      throw EvaluationError.invalidOption(
        name: "--recall-percentile", value: "\(recallPercentile)", reason: "must lie in (0, 50)")
    }
    if activityMaxCellsPerGene < 2 || activityMaxControlCells < 1 {
      throw EvaluationError.invalidOption(
        name: "--activity-max-cells",
        value: "\(activityMaxCellsPerGene)/\(activityMaxControlCells)",
        reason: "need at least 2 cells per gene and 1 control cell")
    }
    if let m = batch.maxCells, m < 2 {
      throw EvaluationError.invalidOption(
        name: "--max-cells", value: "\(m)", reason: "must be at least 2")
    }
  }
}
