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
/// per batch whatever the number of cells.
///
/// With ``ProfileNormalization/controls`` each cell's features are first standardised with the
/// mean and population standard deviation of the control cells of its own batch (pycytominer's
/// `normalize(method="standardize", samples=<controls>)` per batch), which removes a batch's
/// shift and scale of every feature before the global standardisation. The sums are then kept
/// per batch and combined in `finalize()`, when the controls' statistics are known.
public struct FeatureExtractor: Sendable {
  /// The per-cell features.
  public let spec: CellFeatureSpec
  /// Gene names (the cells' `geneIndex` values index this list).
  public let genes: [String]
  /// Principal components kept (capped at the number of features).
  public let components: Int
  /// How features are normalised per batch before the global standardisation.
  public let normalization: ProfileNormalization
  /// The control gene (an index into `genes`) whose cells define each batch's statistics.
  public let controlGene: Int?
  /// Batches kept apart (1 without normalisation).
  public let batches: Int

  private(set) var cells = 0
  /// Running sums of each batch (`.controls`) or of all cells (`.none`).
  private var groups: [Accumulator]

  /// Cells added so far.
  public var cellCount: Int { cells }

  /// A streaming extractor for `[channels, height, width]` crops.
  ///
  /// - Throws: `EvaluationError.invalidOption` for non-positive sizes, no genes or fewer than one
  ///   component; `EvaluationError.duplicateGene` for a repeated gene name.
  ///
  /// `normalization: .controls` needs `controlGene` and the number of `batches` the cells'
  /// batch indices refer to; a batch without control cells is then standardised with all of its
  /// cells.
  public init(
    channels: Int, height: Int, width: Int, genes: [String], components: Int = 32,
    normalization: ProfileNormalization = .none, controlGene: Int? = nil, batches: Int = 1,
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
    if normalization == .controls {
      guard let c = controlGene, genes.indices.contains(c) else {
        throw EvaluationError.invalidOption(
          name: "--normalize", value: "controls", reason: "the store names no control gene among its genes")
      }
      guard batches >= 1 else {
        throw EvaluationError.invalidOption(name: "batches", value: "\(batches)", reason: "must be at least 1")
      }
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
    self.normalization = normalization
    self.controlGene = controlGene
    self.batches = normalization == .controls ? batches : 1
    groups = (0..<self.batches).map { _ in Accumulator(features: spec.count, genes: genes.count) }
  }

  /// Feature names, in column order of the per-cell features.
  public var featureNames: [String] { spec.names }

  /// Adds a chunk of cells.
  ///
  /// - Parameters:
  ///   - images: `count × channels × height × width` values, cell after cell.
  ///   - geneIndex: the gene of each cell (an index into `genes`); its length is the chunk size.
  ///   - batchIndex: the batch of each cell (0-based; needed with `.controls`, ignored otherwise).
  /// - Throws: `EvaluationError` for a size mismatch, a gene or batch index out of range or a
  ///   NaN/infinite pixel (naming the cell by its position in the stream); the extractor is
  ///   unchanged then.
  public mutating func add(images: [Float], geneIndex: [Int], batchIndex: [Int]? = nil) throws {
    let n = geneIndex.count
    let size = spec.channels * spec.height * spec.width
    guard images.count == n * size else {
      throw EvaluationError.shapeMismatch(
        input: "feature images", expected: n * size, got: images.count)
    }
    try checkLabels(geneIndex: geneIndex, batchIndex: batchIndex)
    let rows = try features(of: images, firstRow: cells)
    fold(rows, geneIndex: geneIndex, batchIndex: batchIndex)
  }

  /// The features of each cell of `images` (`count × channels × height × width` values), computed
  /// over the cores, without adding them: a process that shares the cells out with others
  /// computes its part here and ``add(rows:geneIndex:batchIndex:)`` takes everyone's.
  ///
  /// - Parameter firstRow: the stream position of the first cell, for error messages.
  /// - Throws: `EvaluationError.invalidImage` for a NaN or infinite pixel, naming the cell.
  public func features(of images: [Float], firstRow: Int) throws -> [[Double]] {
    let size = spec.channels * spec.height * spec.width
    guard size > 0, images.count % size == 0 else {
      throw EvaluationError.shapeMismatch(input: "feature images", expected: (images.count / max(size, 1)) * size, got: images.count)
    }
    if let bad = images.firstIndex(where: { !$0.isFinite }) {
      throw EvaluationError.invalidImage(row: firstRow + bad / size, reason: "NaN or infinite pixel value")
    }
    let spec = self.spec
    return images.withUnsafeBufferPointer { all in
      ParallelMap.map(images.count / size, costPerItem: size * 20) { i in
        spec.features(of: UnsafeBufferPointer(rebasing: all[(i * size)..<((i + 1) * size)]))
      }
    }
  }

  /// Adds cells by their feature rows (``features(of:firstRow:)``), in stream order.
  ///
  /// - Throws: `EvaluationError` for a row of the wrong length or a gene or batch index out of
  ///   range; the extractor is unchanged then.
  public mutating func add(rows: [[Double]], geneIndex: [Int], batchIndex: [Int]? = nil) throws {
    guard rows.count == geneIndex.count else {
      throw EvaluationError.shapeMismatch(input: "feature rows", expected: geneIndex.count, got: rows.count)
    }
    if let bad = rows.first(where: { $0.count != spec.count }) {
      throw EvaluationError.shapeMismatch(input: "feature row", expected: spec.count, got: bad.count)
    }
    try checkLabels(geneIndex: geneIndex, batchIndex: batchIndex)
    fold(rows, geneIndex: geneIndex, batchIndex: batchIndex)
  }

  private func checkLabels(geneIndex: [Int], batchIndex: [Int]?) throws {
    for (i, g) in geneIndex.enumerated() where g < 0 || g >= genes.count {
      throw EvaluationError.labelOutOfRange(
        input: "feature images", field: "gene", row: cells + i, value: g, count: genes.count)
    }
    if normalization == .controls {
      guard let batchIndex, batchIndex.count == geneIndex.count else {
        throw EvaluationError.shapeMismatch(
          input: "feature batch labels", expected: geneIndex.count, got: batchIndex?.count ?? 0)
      }
      for (i, b) in batchIndex.enumerated() where b < 0 || b >= batches {
        throw EvaluationError.labelOutOfRange(
          input: "feature images", field: "batch", row: cells + i, value: b, count: batches)
      }
    }
  }

  /// Adds precomputed per-cell feature rows (for tests and for features computed elsewhere).
  mutating func fold(_ rows: [[Double]], geneIndex: [Int], batchIndex: [Int]? = nil) {
    for (r, row) in rows.enumerated() {
      let group = normalization == .controls ? (batchIndex?[r] ?? 0) : 0
      groups[group].add(row, gene: geneIndex[r], isControl: normalization == .controls && geneIndex[r] == controlGene)
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
    // Each group's features as (x − centre) / spread: identity without normalisation, else the
    // statistics of the batch's controls. Groups combine exactly (Chan et al.'s pairwise
    // update): the scatter about the global mean is the sum of the within-group scatters plus
    // each group's size times its mean's squared distance from the global mean.
    let affine = groups.map { group -> (centre: [Double], spread: [Double]) in
      guard group.cells > 0, normalization == .controls else {
        return ([Double](repeating: 0, count: f), [Double](repeating: 1, count: f))
      }
      return group.standardisation()
    }
    let groupMeans = groups.indices.map { k -> [Double] in
      guard groups[k].cells > 0 else { return [Double](repeating: 0, count: f) }
      return (0..<f).map { j in (groups[k].mean(j) - affine[k].centre[j]) / affine[k].spread[j] }
    }
    var mean = [Double](repeating: 0, count: f)
    for (k, group) in groups.enumerated() where group.cells > 0 {
      for j in 0..<f { mean[j] += Double(group.cells) * groupMeans[k][j] / n }
    }
    var cov = [Double](repeating: 0, count: f * f)
    let ddof = max(n - 1, 1)
    for (k, group) in groups.enumerated() where group.cells > 0 {
      let m = Double(group.cells)
      let spread = affine[k].spread
      let d = (0..<f).map { groupMeans[k][$0] - mean[$0] }
      for a in 0..<f {
        for b in a..<f {
          let within = (group.cross[a * f + b] - group.sum[a] * group.sum[b] / m) / (spread[a] * spread[b])
          cov[a * f + b] += (within + m * d[a] * d[b]) / ddof
        }
      }
    }
    for a in 0..<f { for b in 0..<a { cov[a * f + b] = cov[b * f + a] } }
    var geneCount = [Int](repeating: 0, count: genes.count)
    // Per gene, the sum over its cells of the normalised features.
    var geneTotal = [Double](repeating: 0, count: genes.count * f)
    for (k, group) in groups.enumerated() {
      for g in genes.indices where group.geneCount[g] > 0 {
        geneCount[g] += group.geneCount[g]
        for j in 0..<f {
          let raw = group.shift[j] + group.geneSum[g * f + j] / Double(group.geneCount[g])
          geneTotal[g * f + j] += Double(group.geneCount[g]) * (raw - affine[k].centre[j]) / affine[k].spread[j]
        }
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
    var geneFeatureMeans: [Double] = []
    for g in genes.indices where geneCount[g] > 0 {
      names.append(genes[g])
      counts.append(geneCount[g])
      for j in 0..<f { geneFeatureMeans.append(geneTotal[g * f + j] / Double(geneCount[g])) }
      var z = [Double](repeating: 0, count: f)
      for j in 0..<f { z[j] = (geneTotal[g * f + j] / Double(geneCount[g]) - mean[j]) / scale[j] }
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
      explainedVarianceRatio: pca.explainedVarianceRatio, geneFeatureMeans: geneFeatureMeans)
  }
}

/// Running sums of the features of one group of cells, shifted by the group's first cell for
/// accuracy: count, sum and upper-triangle cross-products, per-gene sums and counts, and the sum
/// and sum of squares over the group's control cells.
private struct Accumulator: Sendable {
  let features: Int
  var cells = 0
  var shift: [Double] = []
  var sum: [Double]
  var cross: [Double]
  var geneSum: [Double]
  var geneCount: [Int]
  var controls = 0
  var controlSum: [Double]
  var controlSquares: [Double]

  init(features f: Int, genes: Int) {
    features = f
    sum = [Double](repeating: 0, count: f)
    cross = [Double](repeating: 0, count: f * f)
    geneSum = [Double](repeating: 0, count: genes * f)
    geneCount = [Int](repeating: 0, count: genes)
    controlSum = [Double](repeating: 0, count: f)
    controlSquares = [Double](repeating: 0, count: f)
  }

  mutating func add(_ row: [Double], gene: Int, isControl: Bool) {
    let f = features
    if shift.isEmpty { shift = row }
    var centred = [Double](repeating: 0, count: f)
    for j in 0..<f {
      centred[j] = row[j] - shift[j]
      sum[j] += centred[j]
      geneSum[gene * f + j] += centred[j]
    }
    for a in 0..<f {
      let va = centred[a]
      if va == 0 { continue }
      for b in a..<f { cross[a * f + b] += va * centred[b] }
    }
    if isControl {
      controls += 1
      for j in 0..<f {
        controlSum[j] += centred[j]
        controlSquares[j] += centred[j] * centred[j]
      }
    }
    geneCount[gene] += 1
    cells += 1
  }

  /// Mean of feature `j` over the group.
  func mean(_ j: Int) -> Double { shift[j] + sum[j] / Double(cells) }

  /// Mean and population standard deviation per feature of the group's controls (of all its
  /// cells without controls); a constant feature gets spread 1.
  func standardisation() -> (centre: [Double], spread: [Double]) {
    let f = features
    let useControls = controls > 0
    let n = Double(useControls ? controls : cells)
    var centre = [Double](repeating: 0, count: f)
    var spread = [Double](repeating: 1, count: f)
    for j in 0..<f {
      let m = (useControls ? controlSum[j] : sum[j]) / n
      let squares = useControls ? controlSquares[j] : cross[j * f + j]
      let variance = max(0, squares / n - m * m)
      centre[j] = shift[j] + m
      spread[j] = variance > 1e-24 ? variance.squareRoot() : 1
    }
    return (centre, spread)
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
  /// Feature means over all cells (after the per-batch normalisation, when there is one).
  public let featureMeans: [Double]
  /// Feature standard deviations used for standardising (1 for constant features).
  public let featureScales: [Double]
  /// Fraction of the standardised variance along each kept component.
  public let explainedVarianceRatio: [Double]
  /// Each embedding row's mean of the per-cell features before the global standardisation and
  /// PCA (after the per-batch normalisation, when there is one), row-major `[genes, features]`:
  /// what `grape profile` gives for the same cells with no step on.
  public let geneFeatureMeans: [Double]
}
