import OPSData
import GrapeSupport

/// CORUM metrics of one gene embedding: mAP, k-means at the main k and over the k sweep.
public struct CorumMetrics: Sendable {
  /// Display name (`embedding`, `random`, a baseline's name).
  public let name: String
  /// Number of columns of the embedding.
  public let dimension: Int
  /// Genes evaluated (in the embedding and in the table), in embedding row order.
  public let genes: [String]
  /// Complex identifier of each evaluated gene.
  public let complexOfGene: [String]
  /// Complexes with at least one evaluated gene.
  public let complexCount: Int
  /// Genes of the table absent from the embedding (table order).
  public let missingGenes: [String]
  /// Genes of the embedding absent from the table (controls and others), left out.
  public let genesNotInTable: [String]
  /// AP per evaluated gene and mAP.
  public let averagePrecision: AveragePrecisionResult
  /// k-means at the main k (`nil` when the embedding has fewer genes than k).
  public let kmeans: ClusteringSummary?
  /// k-means over the sweep.
  public let sweep: [ClusteringSummary]

  /// The mAP (`nil` when no evaluated gene has a partner in its complex).
  public var map: Double? { averagePrecision.meanAveragePrecision }
}

/// The chance baseline: random N(0, 1) embeddings of the evaluated shape.
public struct RandomBaselineMetrics: Sendable {
  /// Number of random embeddings drawn.
  public let draws: Int
  /// mAP of each draw.
  public let mapPerDraw: [Double]
  /// mAP over draws.
  public let map: MeanStd
  /// k-means at the main k, runs pooled over draws.
  public let kmeans: ClusteringSummary?
  /// k sweep, runs pooled over draws.
  public let sweep: [ClusteringSummary]
  /// Share of complexes retrieved at corrected p below the threshold in each draw (copairs'
  /// test, ``RetrievalSignificance``); empty when the test is off.
  public var fractionComplexesRetrieved: [Double] = []
}

/// The evaluated part of an embedding: rows in the table, their labels, and what was left out.
struct EvaluatedGenes {
  let embedding: GeneEmbedding
  let labels: [Int]
  let complexIDs: [String]
  let missing: [String]
  let notInTable: [String]
  let complexCount: Int

  init(_ embedding: GeneEmbedding, complexes: ComplexAssignment, input: String) throws {
    var rows: [Int] = []
    var labels: [Int] = []
    var outside: [String] = []
    for (i, gene) in embedding.genes.enumerated() {
      if let c = complexes.complexIndex(of: gene) {
        rows.append(i)
        labels.append(c)
      } else {
        outside.append(gene)
      }
    }
    guard !rows.isEmpty else {
      throw EvaluationError.noGenesInTable(
        input: input, embeddingGenes: embedding.count, examples: Array(embedding.genes.prefix(5)))
    }
    let present = Set(embedding.genes)
    self.embedding = embedding.rows(rows)
    self.labels = labels
    self.complexIDs = labels.map { complexes.complexes[$0] }
    self.missing = complexes.genes.filter { !present.contains($0) }
    self.notInTable = outside
    self.complexCount = Set(labels).count
  }
}

/// Computes `CorumMetrics`.
enum CorumEvaluation {
  /// mAP and k-means of an embedding against the complexes.
  ///
  /// - Parameters:
  ///   - k: the main k; when the embedding has fewer genes, `requireK` decides between an error
  ///     (the main embedding) and a warning (baselines).
  static func evaluate(
    name: String, embedding: GeneEmbedding, complexes: ComplexAssignment, k: Int?,
    options: EvaluationOptions, requireK: Bool, warnings: inout [String]
  ) throws -> (metrics: CorumMetrics, evaluated: EvaluatedGenes) {
    let ev = try EvaluatedGenes(embedding, complexes: complexes, input: name)
    let n = ev.embedding.count
    let d = ev.embedding.dimension
    let zeroRows = (0..<n).filter { i in ev.embedding.row(i).allSatisfy { $0 == 0 } }
    if !zeroRows.isEmpty {
      let names = zeroRows.prefix(5).map { ev.embedding.genes[$0] }.joined(separator: ", ")
      warnings.append(
        "\(name): \(zeroRows.count) gene(s) have an all-zero row (\(names)); their cosine similarity is taken as 0"
      )
    }
    let ap = AveragePrecision.compute(
      values: ev.embedding.values, count: n, dimension: d, labels: ev.labels)
    if ap.meanAveragePrecision == nil {
      warnings.append(
        "\(name): no evaluated gene shares a complex with another evaluated gene; mAP is undefined (null)"
      )
    }
    if ev.complexCount < 2 {
      warnings.append(
        "\(name): the evaluated genes belong to \(ev.complexCount) complex; NMI, ARI and purity cannot tell clusterings apart"
      )
    }
    let mainK = k ?? ev.complexCount
    let data = KMeansData(values: ev.embedding.values, count: n, dimension: d)
    let kmeansConfig = KMeans(
      clusters: 1, maxIterations: options.maxIterations, tolerance: options.tolerance)
    var summary: ClusteringSummary?
    if mainK > n {
      if requireK {
        throw EvaluationError.tooFewGenes(input: name, k: mainK, genes: n)
      }
      warnings.append(
        "\(name): only \(n) evaluated genes, fewer than k = \(mainK); k-means skipped")
    } else {
      summary = ClusteringEvaluation.evaluate(
        data: data, truth: ev.labels, k: mainK, restarts: options.restarts, seed: options.seed,
        kmeans: kmeansConfig)
      if let s = summary, s.runs.contains(where: { $0.distinctClusters < mainK }) {
        warnings.append(
          "\(name): some k-means runs at k = \(mainK) found fewer distinct clusters (duplicated rows?)"
        )
      }
    }
    let ks = sweepValues(options.kRange, genes: n, name: name, warnings: &warnings)
    let sweep = ClusteringEvaluation.sweep(
      data: data, truth: ev.labels, ks: ks, restarts: options.restarts, seed: options.seed,
      kmeans: kmeansConfig)
    let metrics = CorumMetrics(
      name: name, dimension: d, genes: ev.embedding.genes, complexOfGene: ev.complexIDs,
      complexCount: ev.complexCount, missingGenes: ev.missing, genesNotInTable: ev.notInTable,
      averagePrecision: ap, kmeans: summary, sweep: sweep)
    return (metrics, ev)
  }

  /// The k values of the sweep that fit `genes`, with a warning for those dropped.
  static func sweepValues(
    _ range: ClosedRange<Int>?, genes n: Int, name: String, warnings: inout [String]
  ) -> [Int] {
    guard let range else { return [] }
    let ks = range.lowerBound <= n ? Array(range.lowerBound...min(range.upperBound, n)) : []
    if ks.count < range.count {
      warnings.append(
        "\(name): k sweep limited to k ≤ \(n) (the number of evaluated genes); \(range.count - ks.count) value(s) skipped"
      )
    }
    return ks
  }

  /// The random baseline: `draws` N(0, 1) embeddings of shape `[genes, dimension]` with the given
  /// labels. mAP is averaged over draws; the `restarts` k-means runs of each k are spread evenly
  /// over the draws and pooled.
  static func randomBaseline(
    labels: [Int], dimension d: Int, k: Int, options: EvaluationOptions
  ) -> RandomBaselineMetrics {
    let n = labels.count
    let draws = options.randomDraws
    var root = RandomGenerator(seed: options.seed ^ 0x0A11_D00D_5EED_0001)
    var maps: [Double] = []
    var retrieved: [Double] = []
    var mainRuns: [ClusteringRun] = []
    var ignored: [String] = []
    let ks = sweepValues(options.kRange, genes: n, name: "random", warnings: &ignored)
    var sweepRuns = [[ClusteringRun]](repeating: [], count: ks.count)
    let kmeansConfig = KMeans(
      clusters: 1, maxIterations: options.maxIterations, tolerance: options.tolerance)
    for t in 0..<draws {
      var rng = root.split()
      var values = [Float](repeating: 0, count: n * d)
      for i in values.indices { values[i] = Float(rng.normal()) }
      let ap = AveragePrecision.compute(values: values, count: n, dimension: d, labels: labels)
      if let m = ap.meanAveragePrecision { maps.append(m) }
      if options.nullSize > 0 {
        // Labels stand in for gene and complex names: only the grouping matters here.
        let ids = labels.map(String.init)
        let significance = RetrievalSignificance.compute(
          averagePrecision: ap, genes: (0..<n).map { "g\($0)" }, complexOfGene: ids,
          complexOrder: Array(Set(ids)).sorted(), nullSize: options.nullSize,
          threshold: options.significanceThreshold, seed: Evaluator.significanceSeed(options))
        if let share = significance.fractionComplexesRetrieved { retrieved.append(share) }
      }
      let share = options.restarts / draws + (t < options.restarts % draws ? 1 : 0)
      guard share > 0 else { continue }
      let data = KMeansData(values: values, count: n, dimension: d)
      let drawSeed = options.seed &+ 0x51_7CC1_B727_220A &* UInt64(t + 1)
      if k <= n {
        mainRuns +=
          ClusteringEvaluation.evaluate(
            data: data, truth: labels, k: k, restarts: share, seed: drawSeed, kmeans: kmeansConfig
          ).runs
      }
      for (i, kk) in ks.enumerated() {
        sweepRuns[i] +=
          ClusteringEvaluation.evaluate(
            data: data, truth: labels, k: kk, restarts: share, seed: drawSeed, kmeans: kmeansConfig
          ).runs
      }
    }
    return RandomBaselineMetrics(
      draws: draws, mapPerDraw: maps, map: MeanStd(maps),
      kmeans: mainRuns.isEmpty ? nil : ClusteringSummary(k: k, runs: mainRuns),
      sweep: zip(ks, sweepRuns).map { ClusteringSummary(k: $0, runs: $1) },
      fractionComplexesRetrieved: retrieved)
  }
}
