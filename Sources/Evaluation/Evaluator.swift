import OPSData
import GrapeSupport

/// 2-D projections drawn in the report's figures.
public struct ReportProjections: Sendable {
  /// PCA of the evaluated genes, row-major `[genes, 2]`.
  public var genePCA: [Double]?
  /// t-SNE of the evaluated genes, row-major `[genes, 2]`.
  public var geneTSNE: [Double]?
  /// Cells drawn for the cell projections (indices into the input cells).
  public var cellRows: [Int] = []
  /// PCA of the drawn cells, row-major `[cells, 2]`.
  public var cellPCA: [Double]?
  /// t-SNE of the drawn cells, row-major `[cells, 2]`.
  public var cellTSNE: [Double]?
  /// Batch of each drawn cell (index into `batchNames`).
  public var cellBatch: [Int] = []
  /// Complex of each drawn cell (index into the table's complexes; −1 outside the table).
  public var cellComplex: [Int] = []
  /// Batch names.
  public var batchNames: [String] = []

  /// No projections.
  public init() {}
}

/// Where the evaluated embedding came from.
public enum EvaluationSource: Sendable, Equatable {
  /// A gene × d embedding.
  case embedding
  /// Per-cell codes, evaluated through their per-gene means (and batch metrics).
  case cells(count: Int, dimension: Int)
}

/// Everything `grape evaluate` reports; `write(to:)` produces `metrics.json`, `report.md` and
/// the SVG figures.
public struct EvaluationReport: Sendable {
  /// Input kind.
  public let source: EvaluationSource
  /// Metrics of the evaluated embedding.
  public let main: CorumMetrics
  /// The random baseline, if drawn.
  public let random: RandomBaselineMetrics?
  /// Baseline embeddings passed by the user (and the engineered features).
  public let baselines: [CorumMetrics]
  /// Batch-effect metrics (cell codes only).
  public let batch: BatchMetrics?
  /// The ground truth.
  public let complexes: ComplexAssignment
  /// Settings used.
  public let options: EvaluationOptions
  /// Conditions worth a look that did not stop the evaluation.
  public internal(set) var warnings: [String]
  /// Figure data.
  public let projections: ReportProjections
  /// copairs-style significance of complex and gene retrieval (`nil` with `nullSize` 0).
  public var significance: RetrievalSignificance? = nil
  /// EFAAR-style recall of within-complex pairs among the extreme pairwise similarities.
  public var relationshipRecall: RelationshipRecall? = nil
  /// Phenotypic activity against the controls (`nil` without a control).
  public var activity: PhenotypicActivity? = nil
  /// scIB-style overall score (cell codes only).
  public var overallScore: OverallScore? = nil
  /// Significance of retrieval for each baseline, in `baselines` order (empty with `nullSize` 0).
  public var baselineSignificance: [RetrievalSignificance] = []
  /// The main k (number of complexes unless set).
  public var k: Int { options.k ?? main.complexCount }
}

/// Runs the CORUM and batch evaluations (`grape evaluate`).
public enum Evaluator {
  /// Evaluates a gene embedding against the complexes, with the random baseline and the given
  /// baselines computed in the same run.
  ///
  /// - Parameters:
  ///   - embedding: the gene × d embedding.
  ///   - complexes: the complexes table.
  ///   - baselines: further embeddings evaluated the same way (same k, same seeds).
  ///   - options: settings; validated first.
  ///   - name: the embedding's name in the report.
  /// - Throws: `EvaluationError` for invalid options, no gene in the table, or fewer evaluated
  ///   genes than k.
  public static func evaluate(
    embedding: GeneEmbedding, complexes: ComplexAssignment, baselines: [NamedEmbedding] = [],
    options: EvaluationOptions = EvaluationOptions(), name: String = "embedding"
  ) throws -> EvaluationReport {
    try run(
      embedding: embedding, complexes: complexes, baselines: baselines, options: options,
      name: name,
      source: .embedding, cells: nil)
  }

  /// Evaluates per-cell codes: batch metrics on the cells, and the CORUM metrics of their per-gene
  /// means (genes without cells are missing).
  public static func evaluate(
    cells: LabeledCodes, complexes: ComplexAssignment, baselines: [NamedEmbedding] = [],
    options: EvaluationOptions = EvaluationOptions(), name: String = "per-gene mean of cell codes"
  ) throws -> EvaluationReport {
    let (means, _) = cells.geneMeans()
    return try run(
      embedding: means, complexes: complexes, baselines: baselines, options: options, name: name,
      source: .cells(count: cells.count, dimension: cells.dimension), cells: cells)
  }

  private static func run(
    embedding: GeneEmbedding, complexes: ComplexAssignment, baselines: [NamedEmbedding],
    options: EvaluationOptions, name: String, source: EvaluationSource, cells: LabeledCodes?
  ) throws -> EvaluationReport {
    try options.validate()
    var warnings: [String] = []
    if !complexes.repeatedRows.isEmpty {
      warnings.append(
        "complexes table: \(complexes.repeatedRows.count) repeated (gene, complex) row(s) ignored")
    }
    let (main, evaluated) = try CorumEvaluation.evaluate(
      name: name, embedding: embedding, complexes: complexes, k: options.k, options: options,
      requireK: true, warnings: &warnings)
    if !main.genesNotInTable.isEmpty {
      warnings.append(
        "\(name): \(main.genesNotInTable.count) gene(s) not in the complexes table left out (listed in genes_not_in_table)"
      )
    }
    if !main.missingGenes.isEmpty {
      warnings.append(
        "\(name): \(main.missingGenes.count) gene(s) of the complexes table absent (listed in missing_genes)"
      )
    }
    let k = options.k ?? main.complexCount
    var random: RandomBaselineMetrics?
    if options.randomDraws > 0 {
      random = CorumEvaluation.randomBaseline(
        labels: evaluated.labels, dimension: embedding.dimension, k: k, options: options)
    }
    var others: [CorumMetrics] = []
    var usedNames: Set<String> = [name, "random"]
    for b in baselines {
      var label = b.name
      var suffix = 2
      while usedNames.contains(label) {
        label = "\(b.name) #\(suffix)"
        suffix += 1
      }
      usedNames.insert(label)
      do {
        let (m, _) = try CorumEvaluation.evaluate(
          name: label, embedding: b.embedding, complexes: complexes, k: k, options: options,
          requireK: false, warnings: &warnings)
        others.append(m)
      } catch let error as EvaluationError {
        warnings.append("baseline \(label) skipped: \(error)")
      }
    }
    var batch: BatchMetrics?
    var projections = ReportProjections()
    if options.projections {
      projections = geneProjections(evaluated.embedding, options: options)
    }
    if let cells {
      batch = BatchEffect.measure(cells: cells, options: options.batch)
      if let b = batch {
        if b.subsampled {
          warnings.append(
            "batch metrics computed on a seeded subsample of \(b.cellsUsed) of \(b.cellsTotal) cells (seed \(b.seed))"
          )
        }
        if b.batches < 2 {
          warnings.append("cells come from a single batch; batch metrics are not informative")
        }
        if b.cellsUsed < 2 {
          warnings.append(
            "fewer than 2 cells; kNN accuracy and graph connectivity are undefined (null)")
        }
        if b.asw == nil {
          warnings.append(
            "no gene has cells from two or more batches; batch ASW is undefined (null)")
        }
      }
      if options.projections {
        cellProjections(cells, complexes: complexes, options: options, into: &projections)
      }
    }
    var report = EvaluationReport(
      source: source, main: main, random: random, baselines: others, batch: batch,
      complexes: complexes, options: options, warnings: warnings, projections: projections)
    conventions(
      into: &report, embedding: embedding, evaluated: evaluated, cells: cells, options: options)
    return report
  }

  /// The seed of copairs' null draws: the same for the embedding, its baselines and the random
  /// draws, so that all of them are tested against the same null.
  static func significanceSeed(_ options: EvaluationOptions) -> UInt64 {
    options.seed ^ 0xC0_FA15_0000_0001
  }

  /// The field's conventions beside GRAPE's metrics: copairs' significance of retrieval, the
  /// EFAAR relationship recall, the phenotypic activity and the scIB overall score.
  private static func conventions(
    into report: inout EvaluationReport, embedding: GeneEmbedding, evaluated: EvaluatedGenes,
    cells: LabeledCodes?, options: EvaluationOptions
  ) {
    let seed = significanceSeed(options)
    if options.nullSize > 0 {
      report.significance = RetrievalSignificance.compute(
        metrics: report.main, complexOrder: report.complexes.complexes, nullSize: options.nullSize,
        threshold: options.significanceThreshold, seed: seed)
      report.baselineSignificance = report.baselines.map {
        RetrievalSignificance.compute(
          metrics: $0, complexOrder: report.complexes.complexes, nullSize: options.nullSize,
          threshold: options.significanceThreshold, seed: seed)
      }
    }
    let n = evaluated.embedding.count
    if n >= 2 {
      report.relationshipRecall = RelationshipRecall.compute(
        values: evaluated.embedding.values, count: n, dimension: evaluated.embedding.dimension,
        labels: evaluated.labels, percentile: options.recallPercentile, seed: options.seed)
    }
    let control = options.control ?? PhenotypicActivity.defaultControl
    if let cells {
      if options.nullSize > 0 {
        report.activity = PhenotypicActivity.fromCells(
          cells, control: control, nullSize: options.nullSize,
          threshold: options.significanceThreshold,
          maxCellsPerGene: options.activityMaxCellsPerGene,
          maxControlCells: options.activityMaxControlCells, seed: seed)
      }
    } else {
      report.activity = PhenotypicActivity.fromControlRows(
        embedding, control: control, threshold: options.significanceThreshold)
    }
    if report.activity == nil, options.control != nil {
      report.warnings.append(
        "control \(control): no control \(cells == nil ? "rows" : "cells") with other genes to compare; phenotypic activity skipped"
      )
    }
    if let b = report.batch {
      report.overallScore = OverallScore(batch: b, corum: report.main)
    }
  }

  private static func geneProjections(_ e: GeneEmbedding, options: EvaluationOptions)
    -> ReportProjections
  {
    var p = ReportProjections()
    let n = e.count
    guard n >= 2 else { return p }
    p.genePCA = twoDimensions(
      PCA.fit(values: e.values, count: n, dimension: e.dimension, components: 2), e.values, n)
    if options.tsne && n >= 5 && n <= options.maxTSNEPoints {
      p.geneTSNE = tsne(options).embed(values: e.values, count: n, dimension: e.dimension)
    }
    return p
  }

  private static func cellProjections(
    _ cells: LabeledCodes, complexes: ComplexAssignment, options: EvaluationOptions,
    into p: inout ReportProjections
  ) {
    let n = cells.count
    let d = cells.dimension
    let rows =
      n > options.projectedCells
      ? BatchEffect.subsample(n, options.projectedCells, seed: options.seed ^ 0x9107)
      : Array(0..<n)
    guard rows.count >= 2 else { return }
    var values = [Float]()
    values.reserveCapacity(rows.count * d)
    for i in rows { values.append(contentsOf: cells.values[(i * d)..<((i + 1) * d)]) }
    p.cellRows = rows
    p.cellBatch = rows.map { cells.batchIndex[$0] }
    p.cellComplex = rows.map {
      complexes.complexIndex(of: cells.geneNames[cells.geneIndex[$0]]) ?? -1
    }
    p.batchNames = cells.batchNames
    p.cellPCA = twoDimensions(
      PCA.fit(values: values, count: rows.count, dimension: d, components: 2), values, rows.count)
    if options.tsne && rows.count >= 5 && rows.count <= options.maxTSNEPoints {
      p.cellTSNE = tsne(options).embed(values: values, count: rows.count, dimension: d)
    }
  }

  /// The t-SNE of the settings: scikit-learn's defaults with `tsneIterations` steps (early
  /// exaggeration for the first quarter, at most 250).
  private static func tsne(_ options: EvaluationOptions) -> TSNE {
    TSNE(
      iterations: options.tsneIterations,
      exaggerationIterations: min(250, options.tsneIterations / 4))
  }

  /// The projection on two components (a zero second coordinate when only one exists).
  private static func twoDimensions(_ pca: PCA, _ values: [Float], _ n: Int) -> [Double] {
    let proj = pca.transform(values, count: n)
    let m = pca.componentCount
    var out = [Double](repeating: 0, count: n * 2)
    for i in 0..<n { for c in 0..<min(m, 2) { out[i * 2 + c] = proj[i * m + c] } }
    return out
  }
}
