import OPSData

/// The engineered-feature baseline of `grape features`, computed in one streaming pass.
///
/// Cells arrive in chunks (`add(images:geneIndex:)`); each cell's `CellFeatureSpec` features are
/// computed (over the cores) and folded into running sums: the total count, the sum and the
/// cross-product matrix of the features (shifted by the first cell's features for accuracy), and
/// per-gene sums. `finalize()` then standardises each feature over all cells (mean 0, population
/// standard deviation 1, as scikit-learn's `StandardScaler`; constant features become 0), fits a
/// PCA on the standardised cells (covariance + Jacobi eigen-decomposition, deterministic signs),
/// and projects each gene's mean standardised features — which equals the per-gene average of the
/// projected cells, since the projection is linear. Memory stays O(features² + genes · features)
/// whatever the number of cells.
public struct FeatureExtractor: Sendable {
  /// The per-cell features.
  public let spec: CellFeatureSpec
  /// Gene names (the cells' `geneIndex` values index this list).
  public let genes: [String]
  /// Principal components kept (capped at the number of features).
  public let components: Int

  private(set) var cells = 0
  private var shift: [Double] = []
  private var sum: [Double]
  private var cross: [Double]
  private var geneSum: [Double]
  private var geneCount: [Int]

  /// Cells added so far.
  public var cellCount: Int { cells }

  /// A streaming extractor for `[channels, height, width]` crops.
  ///
  /// - Throws: `EvaluationError.invalidOption` for non-positive sizes, no genes or fewer than one
  ///   component; `EvaluationError.duplicateGene` for a repeated gene name.
  public init(
    channels: Int, height: Int, width: Int, genes: [String], components: Int = 32,
    levels: Int = 8, otsuBins: Int = 64, spotSigma: Double = 2
  ) throws {
    guard channels > 0, height > 0, width > 0 else {
      throw EvaluationError.invalidOption(
        name: "image shape", value: "[\(channels), \(height), \(width)]",
        reason: "every size must be positive")
    }
    guard !genes.isEmpty else {
      throw EvaluationError.invalidOption(
        name: "genes", value: "[]", reason: "need at least one gene")
    }
    guard components >= 1 else {
      throw EvaluationError.invalidOption(
        name: "--components", value: "\(components)", reason: "must be at least 1")
    }
    guard levels >= 2, otsuBins >= 2 else {
      throw EvaluationError.invalidOption(
        name: "--levels/--otsu-bins", value: "\(levels)/\(otsuBins)", reason: "must be at least 2")
    }
    var seen = Set<String>()
    for g in genes where !seen.insert(g).inserted {
      throw EvaluationError.duplicateGene(
        input: "features", gene: g, rows: genes.indices.filter { genes[$0] == g })
    }
    let spec = CellFeatureSpec(
      channels: channels, height: height, width: width, levels: levels, otsuBins: otsuBins,
      spotSigma: spotSigma)
    self.spec = spec
    self.genes = genes
    self.components = min(components, spec.count)
    let f = spec.count
    sum = [Double](repeating: 0, count: f)
    cross = [Double](repeating: 0, count: f * f)
    geneSum = [Double](repeating: 0, count: genes.count * f)
    geneCount = [Int](repeating: 0, count: genes.count)
  }

  /// Feature names, in column order of the per-cell features.
  public var featureNames: [String] { spec.names }

  /// Adds a chunk of cells.
  ///
  /// - Parameters:
  ///   - images: `count × channels × height × width` values, cell after cell.
  ///   - geneIndex: the gene of each cell (an index into `genes`); its length is the chunk size.
  /// - Throws: `EvaluationError` for a size mismatch, a gene index out of range or a NaN/infinite
  ///   pixel (naming the cell by its position in the stream); the extractor is unchanged then.
  public mutating func add(images: [Float], geneIndex: [Int]) throws {
    let n = geneIndex.count
    let size = spec.channels * spec.height * spec.width
    guard images.count == n * size else {
      throw EvaluationError.shapeMismatch(
        input: "feature images", expected: n * size, got: images.count)
    }
    for (i, g) in geneIndex.enumerated() where g < 0 || g >= genes.count {
      throw EvaluationError.labelOutOfRange(
        input: "feature images", field: "gene", row: cells + i, value: g, count: genes.count)
    }
    if let bad = images.firstIndex(where: { !$0.isFinite }) {
      throw EvaluationError.invalidImage(
        row: cells + bad / size, reason: "NaN or infinite pixel value")
    }
    let spec = self.spec
    let rows: [[Double]] = images.withUnsafeBufferPointer { all in
      ParallelMap.map(n, costPerItem: size * 20) { i in
        spec.features(of: UnsafeBufferPointer(rebasing: all[(i * size)..<((i + 1) * size)]))
      }
    }
    fold(rows, geneIndex: geneIndex)
  }

  /// Adds precomputed per-cell feature rows (for tests and for features computed elsewhere).
  mutating func fold(_ rows: [[Double]], geneIndex: [Int]) {
    let f = spec.count
    for (r, row) in rows.enumerated() {
      if shift.isEmpty { shift = row }
      let g = geneIndex[r]
      geneCount[g] += 1
      var centred = [Double](repeating: 0, count: f)
      for j in 0..<f {
        centred[j] = row[j] - shift[j]
        sum[j] += centred[j]
        geneSum[g * f + j] += row[j]
      }
      for a in 0..<f {
        let va = centred[a]
        if va == 0 { continue }
        for b in a..<f { cross[a * f + b] += va * centred[b] }
      }
      cells += 1
    }
  }

  /// The gene × components embedding: per-gene mean of the PCA-projected standardised features.
  ///
  /// - Throws: `EvaluationError.emptyInput` before any cell was added.
  public func finalize() throws -> FeatureEmbedding {
    guard cells > 0 else {
      throw EvaluationError.emptyInput(input: "features (no cells were added)")
    }
    let f = spec.count
    let n = Double(cells)
    var mean = [Double](repeating: 0, count: f)
    var cov = [Double](repeating: 0, count: f * f)
    for j in 0..<f { mean[j] = shift[j] + sum[j] / n }
    let ddof = max(n - 1, 1)
    for a in 0..<f {
      for b in a..<f {
        let c = (cross[a * f + b] - sum[a] * sum[b] / n) / ddof
        cov[a * f + b] = c
        cov[b * f + a] = c
      }
    }
    // Population standard deviation (StandardScaler); zero variance → scale 1.
    var scale = [Double](repeating: 1, count: f)
    for j in 0..<f {
      let variance = max(0, cov[j * f + j] * ddof / n)
      scale[j] = variance > 1e-24 ? variance.squareRoot() : 1
    }
    var corr = [Double](repeating: 0, count: f * f)
    for a in 0..<f { for b in 0..<f { corr[a * f + b] = cov[a * f + b] / (scale[a] * scale[b]) } }
    let pca = PCA.fit(
      mean: [Double](repeating: 0, count: f), covariance: corr, dimension: f, components: components
    )
    let m = pca.componentCount
    var names: [String] = []
    var values: [Float] = []
    var counts: [Int] = []
    for g in genes.indices where geneCount[g] > 0 {
      names.append(genes[g])
      counts.append(geneCount[g])
      var z = [Double](repeating: 0, count: f)
      for j in 0..<f { z[j] = (geneSum[g * f + j] / Double(geneCount[g]) - mean[j]) / scale[j] }
      for c in 0..<m {
        var s = 0.0
        for j in 0..<f { s += pca.components[c * f + j] * z[j] }
        values.append(Float(s))
      }
    }
    let embedding = GeneEmbedding(unchecked: names, values: values, dimension: m)
    return FeatureEmbedding(
      embedding: embedding, cellCounts: counts, cellsProcessed: cells,
      genesWithoutCells: genes.indices.filter { geneCount[$0] == 0 }.map { genes[$0] },
      featureNames: spec.names, featureMeans: mean, featureScales: scale,
      explainedVarianceRatio: pca.explainedVarianceRatio)
  }
}

/// The result of `FeatureExtractor.finalize()`.
public struct FeatureEmbedding: Sendable {
  /// Genes × principal components.
  public let embedding: GeneEmbedding
  /// Cells behind each embedding row.
  public let cellCounts: [Int]
  /// Cells processed.
  public let cellsProcessed: Int
  /// Genes of the list that had no cell (no row).
  public let genesWithoutCells: [String]
  /// Per-cell feature names.
  public let featureNames: [String]
  /// Feature means over all cells.
  public let featureMeans: [Double]
  /// Feature standard deviations used for standardising (1 for constant features).
  public let featureScales: [Double]
  /// Fraction of the standardised variance along each kept component.
  public let explainedVarianceRatio: [Double]
}
