/// Errors raised by the Evaluation module.
///
/// Each message names the input (embedding, cell codes, complexes table, option or output file),
/// the row or gene at fault, and what was expected, so a command line can print it as one line.
public enum EvaluationError: Error, CustomStringConvertible, Equatable, Sendable {
  /// A flat value array does not hold `rows × columns` entries.
  case shapeMismatch(input: String, expected: Int, got: Int)
  /// The embedding or code matrix has zero columns.
  case emptyDimension(input: String)
  /// The matrix has no rows at all.
  case emptyInput(input: String)
  /// A gene name occurs on more than one row.
  case duplicateGene(input: String, gene: String, rows: [Int])
  /// A value is NaN or infinite.
  case nonFiniteValue(input: String, row: Int, label: String, column: Int)
  /// A per-row label array has the wrong length.
  case labelCountMismatch(input: String, field: String, expected: Int, got: Int)
  /// A per-row label index lies outside its name list.
  case labelOutOfRange(input: String, field: String, row: Int, value: Int, count: Int)
  /// The complexes table lists one gene under two different complexes.
  case conflictingComplex(gene: String, first: String, second: String)
  /// The complexes table is empty or malformed.
  case invalidComplexTable(reason: String)
  /// No gene of the embedding occurs in the complexes table.
  case noGenesInTable(input: String, embeddingGenes: Int, examples: [String])
  /// Fewer evaluated genes than the requested number of clusters.
  case tooFewGenes(input: String, k: Int, genes: Int)
  /// An option is out of range.
  case invalidOption(name: String, value: String, reason: String)
  /// A cell image has the wrong size or content.
  case invalidImage(row: Int, reason: String)
  /// Writing an output failed.
  case writeFailed(path: String, reason: String)

  /// A one-line message naming the input, row, field or flag at fault.
  public var description: String {
    switch self {
    case .shapeMismatch(let input, let expected, let got):
      return "\(input): expected \(expected) values (rows × columns), got \(got)"
    case .emptyDimension(let input):
      return "\(input): the matrix has 0 columns (d = 0); nothing can be evaluated"
    case .emptyInput(let input):
      return "\(input): no rows"
    case .duplicateGene(let input, let gene, let rows):
      let list = rows.map(String.init).joined(separator: ", ")
      return
        "\(input): gene '\(gene)' appears more than once (rows \(list)); give each gene one row"
    case .nonFiniteValue(let input, let row, let label, let column):
      return "\(input): row \(row) ('\(label)') has a NaN or infinite value in column \(column)"
    case .labelCountMismatch(let input, let field, let expected, let got):
      return "\(input): field '\(field)' has \(got) entries, expected one per row (\(expected))"
    case .labelOutOfRange(let input, let field, let row, let value, let count):
      return "\(input): field '\(field)' row \(row) holds index \(value), outside 0..<\(count)"
    case .conflictingComplex(let gene, let first, let second):
      return
        "complexes table: gene '\(gene)' is listed under complex '\(first)' and complex '\(second)'; "
        + "each gene needs exactly one complex"
    case .invalidComplexTable(let reason):
      return "complexes table: \(reason)"
    case .noGenesInTable(let input, let count, let examples):
      let shown = examples.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
      return
        "\(input): none of its \(count) genes occurs in the complexes table (first genes: \(shown)); "
        + "check that both use the same gene symbols"
    case .tooFewGenes(let input, let k, let genes):
      return
        "\(input): k-means with k = \(k) needs at least \(k) evaluated genes, found \(genes); lower --k"
    case .invalidOption(let name, let value, let reason):
      return "option \(name) = \(value): \(reason)"
    case .invalidImage(let row, let reason):
      return "cell \(row): \(reason)"
    case .writeFailed(let path, let reason):
      return "\(path): cannot write (\(reason))"
    }
  }
}
