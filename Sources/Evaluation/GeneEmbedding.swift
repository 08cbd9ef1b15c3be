import OPSData

/// Evaluation's checks and row selection on the toolkit's gene × d embedding (OPSData's
/// `GeneEmbedding`, which also reads and writes the embedding files).
extension GeneEmbedding {
  /// Creates an embedding checked for evaluation: the value count matches
  /// `genes.count × dimension`, `dimension > 0`, every value is finite and no gene occurs twice.
  ///
  /// - Parameters:
  ///   - genes: one name per row.
  ///   - values: row-major `[genes.count, dimension]` values.
  ///   - dimension: number of columns; must be positive.
  ///   - input: the name used in error messages (a file name, for example).
  /// - Throws: `EvaluationError` for a shape mismatch, `d = 0`, an empty matrix, a duplicated gene
  ///   or a NaN/infinite value (naming the row and gene).
  public init(genes: [String], values: [Float], dimension: Int, input: String) throws {
    guard dimension > 0 else { throw EvaluationError.emptyDimension(input: input) }
    guard !genes.isEmpty else { throw EvaluationError.emptyInput(input: input) }
    guard values.count == genes.count * dimension else {
      throw EvaluationError.shapeMismatch(
        input: input, expected: genes.count * dimension, got: values.count)
    }
    var seen = Set<String>()
    for gene in genes where !seen.insert(gene).inserted {
      let rows = genes.indices.filter { genes[$0] == gene }
      throw EvaluationError.duplicateGene(input: input, gene: gene, rows: rows)
    }
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      let row = bad / dimension
      throw EvaluationError.nonFiniteValue(
        input: input, row: row, label: genes[row], column: bad % dimension)
    }
    self.init(unchecked: genes, values: values, dimension: dimension, source: input)
  }

  /// Checks an embedding read from a file for evaluation (see ``init(genes:values:dimension:input:)``).
  public func validatedForEvaluation(input: String) throws -> GeneEmbedding {
    try GeneEmbedding(genes: genes, values: values, dimension: dimension, input: input)
  }

  /// The embedding restricted to the given rows, in the given order.
  public func rows(_ indices: [Int]) -> GeneEmbedding {
    var out = [Float]()
    out.reserveCapacity(indices.count * dimension)
    for i in indices { out.append(contentsOf: row(i)) }
    return GeneEmbedding(unchecked: indices.map { genes[$0] }, values: out, dimension: dimension, source: source)
  }
}

/// An embedding with a display name, evaluated as a baseline beside the main one.
public struct NamedEmbedding: Sendable {
  /// The name shown in reports (`engineered`, a file name, …).
  public let name: String
  /// The embedding.
  public let embedding: GeneEmbedding

  /// Pairs a name with an embedding.
  public init(name: String, embedding: GeneEmbedding) {
    self.name = name
    self.embedding = embedding
  }
}
