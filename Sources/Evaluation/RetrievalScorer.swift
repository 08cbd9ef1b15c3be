/// The mAP of embeddings whose rows are one fixed list of genes, scored again and again against
/// one complex table: the validation of `grape train`, which scores the gene embedding of the
/// model as it trains.
///
/// The rows scored and their complexes are found once; each call is then the mAP of
/// `grape evaluate` (``AveragePrecision``) on those rows: genes absent from the table (controls
/// and others) are left out, each remaining gene is a query, the genes of its complex are its
/// hits, and queries without a hit do not count.
///
/// ```swift
/// let scorer = try RetrievalScorer(genes: config.genes, complexes: assignment, input: "train")
/// let map = scorer.meanAveragePrecision(values: m.scalars, dimension: m.shape[1])
/// ```
public struct RetrievalScorer: Sendable {
  /// The genes of the rows scored, in row order.
  public let genes: [String]
  /// The rows that are in the complex table.
  let rows: [Int]
  /// The complex of each row of ``rows``.
  let labels: [Int]

  /// A scorer for embeddings with one row per gene of `genes`, in that order.
  ///
  /// - Parameters:
  ///   - genes: the gene of each row.
  ///   - complexes: the complex of each gene.
  ///   - input: the name used in error messages (a file, a run).
  /// - Throws: ``EvaluationError/noGenesInTable(input:embeddingGenes:examples:)`` when no gene
  ///   is in the table.
  public init(genes: [String], complexes: ComplexAssignment, input: String) throws {
    var rows: [Int] = []
    var labels: [Int] = []
    for (i, gene) in genes.enumerated() {
      if let c = complexes.complexIndex(of: gene) {
        rows.append(i)
        labels.append(c)
      }
    }
    guard !rows.isEmpty else {
      throw EvaluationError.noGenesInTable(input: input, embeddingGenes: genes.count, examples: Array(genes.prefix(5)))
    }
    self.genes = genes
    self.rows = rows
    self.labels = labels
  }

  /// The genes scored (those in the table).
  public var scoredGeneCount: Int { rows.count }

  /// Whether some scored gene shares its complex with another, so that mAP is defined.
  public var hasHits: Bool { Set(labels).count < labels.count }

  /// The mAP of an embedding with one row per gene of ``genes``.
  ///
  /// - Parameters:
  ///   - values: row-major `[genes.count, dimension]`.
  ///   - dimension: the number of columns.
  /// - Returns: the mAP, or nil when no scored gene has a complex partner or a value of a scored
  ///   row is NaN or infinite.
  public func meanAveragePrecision(values: [Float], dimension: Int) -> Double? {
    precondition(dimension > 0 && values.count == genes.count * dimension, "\(values.count) values for \(genes.count) genes × \(dimension)")
    var selected = [Float]()
    selected.reserveCapacity(rows.count * dimension)
    for r in rows { selected += values[(r * dimension)..<((r + 1) * dimension)] }
    guard selected.allSatisfy(\.isFinite) else { return nil }
    return AveragePrecision.compute(values: selected, count: rows.count, dimension: dimension, labels: labels).meanAveragePrecision
  }
}
