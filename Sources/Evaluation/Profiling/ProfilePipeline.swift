import GrapeSupport
import OPSData

/// Profile processing: per-cell profiles in, one row per gene out, through the steps profiling
/// pipelines (pycytominer, harmonypy) apply, in this order:
///
/// 1. ``ProfileNormalizer``: per-batch normalisation to the controls (`standardize`, `robust`).
/// 2. ``FeatureSelection``: `variance` (frequency/uniqueness), `min-variance`, `correlation`.
/// 3. ``Sphering``: ZCA whitening of each batch, fitted on its controls.
/// 4. ``Harmony``: alignment over batches, on the top ``harmonyComponents`` principal components
///    of the cells (centred, not rescaled; sign-fixed as ``PCA``); the output is then in those
///    corrected components (`PC1`, `PC2`, …).
/// 5. ``ProfileAggregation``: the mean or median per gene.
///
/// Every step is off by default; with all off the result is the per-gene mean of the input.
public struct ProfilePipeline: Sendable {
  /// Step 1.
  public var normalization: ProfileNormalizer.Method = .none
  /// pycytominer's `mad_robustize_epsilon` for `robust`.
  public var robustEpsilon = ProfileNormalizer.defaultRobustEpsilon
  /// Step 2 (no operation: every feature kept).
  public var featureSelection = FeatureSelection(operations: [])
  /// Step 3, when set.
  public var sphering: Sphering?
  /// Step 4, when set.
  public var harmony: Harmony?
  /// Principal components Harmony works on (capped at the features and the cells).
  public var harmonyComponents = 50
  /// Step 5.
  public var aggregation: ProfileAggregation.Method = .mean

  /// A pipeline with every step off and mean aggregation.
  public init() {}

  /// What ``run(_:rng:)`` returns.
  public struct Result: Sendable {
    /// The gene × d profiles (`source` = `profile`).
    public let embedding: GeneEmbedding
    /// Cells behind each row.
    public let cellCounts: [Int]
    /// The per-cell matrix after the last step before aggregation.
    public let cells: CellProfiles
    /// Features dropped by feature selection.
    public let droppedFeatures: [String]
    /// One line per step that ran, saying what it did.
    public let log: [String]
    /// The steps that ran, in order (`normalize:standardize`, `feature_select:variance,correlation`,
    /// `sphere:ZCA`, `harmony`, `aggregate:mean`), for provenance.
    public let steps: [String]
  }

  /// Runs the steps on `input`.
  ///
  /// - Parameter rng: drives Harmony's initial k-means and block order.
  /// - Throws: ``ProfilingError`` naming the step and the batch or feature at fault.
  public func run(_ input: CellProfiles, rng: inout RandomGenerator) throws -> Result {
    var p = input
    var log: [String] = []
    var steps: [String] = []
    if normalization != .none {
      try ProfileNormalizer.apply(&p, method: normalization, epsilon: robustEpsilon)
      log.append("normalized \(p.dimension) features per batch to the controls (\(normalization.rawValue))")
      steps.append("normalize:\(normalization.rawValue)")
    }
    var dropped: [String] = []
    if !featureSelection.operations.isEmpty {
      let before = p.dimension
      dropped = try featureSelection.apply(&p)
      let ops = featureSelection.operations.map(\.rawValue).joined(separator: ",")
      log.append("feature selection (\(ops)) kept \(p.dimension) of \(before) features")
      steps.append("feature_select:\(ops)")
    }
    if let sphering {
      try sphering.apply(&p)
      log.append("sphered each batch with the ZCA transform of its controls (epsilon \(sphering.epsilon))")
      steps.append("sphere:ZCA")
    }
    if let harmony {
      guard harmonyComponents >= 1 else {
        throw ProfilingError.invalidSetting(name: "--harmony-components", value: "\(harmonyComponents)", reason: "must be at least 1")
      }
      let m = min(harmonyComponents, p.dimension, p.count)
      let pcs = Self.principalComponents(p, components: m)
      let result = try harmony.correct(pcs, count: p.count, dimension: m, batchOfCell: p.batchOfCell, rng: &rng)
      p = try CellProfiles(
        values: result.corrected, features: (1...m).map { "PC\($0)" }, geneOfCell: p.geneOfCell,
        batchOfCell: p.batchOfCell, genes: p.genes, batches: p.batches, controlGene: p.controlGene)
      log.append(
        "Harmony on \(m) principal components: \(result.clusters) clusters, \(result.kmeansRounds.count) rounds")
      steps.append("harmony")
    }
    let (embedding, counts) = ProfileAggregation.aggregate(p, method: aggregation)
    steps.append("aggregate:\(aggregation.rawValue)")
    log.append("aggregated \(p.count) cells to \(embedding.count) genes by \(aggregation.rawValue)")
    return Result(embedding: embedding, cellCounts: counts, cells: p, droppedFeatures: dropped, log: log, steps: steps)
  }

  /// The cells projected on their top `m` principal components (row-major `[count, m]`).
  static func principalComponents(_ p: CellProfiles, components m: Int) -> [Double] {
    let n = p.count
    let d = p.dimension
    var mean = [Double](repeating: 0, count: d)
    for i in 0..<n { for j in 0..<d { mean[j] += p.values[i * d + j] } }
    for j in 0..<d { mean[j] /= Double(n) }
    var centred = p.values
    for i in 0..<n { for j in 0..<d { centred[i * d + j] -= mean[j] } }
    var cov = [Double](repeating: 0, count: d * d)
    let denominator = Double(max(n - 1, 1))
    centred.withUnsafeBufferPointer { xb in
      cov.withUnsafeMutableBufferPointer { cb in
        guard let px = xb.baseAddress, let pc = cb.baseAddress else { return }
        LinearAlgebra.dgemm(transA: true, transB: false, m: d, n: d, k: n, alpha: 1 / denominator, px, px, beta: 0, pc)
      }
    }
    for a in 0..<d { for b in 0..<a { cov[a * d + b] = cov[b * d + a] } }
    let pca = PCA.fit(mean: mean, covariance: cov, dimension: d, components: m)
    var out = [Double](repeating: 0, count: n * m)
    centred.withUnsafeBufferPointer { xb in
      pca.components.withUnsafeBufferPointer { vb in
        out.withUnsafeMutableBufferPointer { ob in
          guard let px = xb.baseAddress, let pv = vb.baseAddress, let po = ob.baseAddress else { return }
          LinearAlgebra.dgemm(transA: false, transB: true, m: n, n: m, k: d, alpha: 1, px, pv, beta: 0, po)
        }
      }
    }
    return out
  }
}
