/// The ground truth: which protein complex each gene belongs to (one complex per gene).
///
/// Built from the rows of the complexes table (`complex_id`, `complex_name`, `gene`). Complexes
/// keep the order of their first appearance in the table, which fixes label numbers, colours and
/// report order.
public struct ComplexAssignment: Sendable, Equatable {
  /// Complex identifiers in order of first appearance.
  public let complexes: [String]
  /// Display name of each complex identifier (the identifier itself when the table has none).
  public let names: [String: String]
  /// Genes of the table in table order (each once).
  public let genes: [String]
  /// Rows that repeated an earlier (gene, complex) pair and were ignored.
  public let repeatedRows: [Int]
  private let complexIndexOfGene: [String: Int]

  /// Creates the assignment from table rows.
  ///
  /// - Parameters:
  ///   - genes: the `gene` column.
  ///   - complexIDs: the `complex_id` column, one per gene.
  ///   - complexNames: the `complex_name` column, one per gene, or `nil`.
  /// - Throws: `EvaluationError.invalidComplexTable` for empty or ragged columns and empty names,
  ///   `EvaluationError.conflictingComplex` when a gene is listed under two complexes. A row that
  ///   repeats an earlier (gene, complex) pair is ignored and listed in `repeatedRows`.
  public init(genes: [String], complexIDs: [String], complexNames: [String]? = nil) throws {
    guard !genes.isEmpty else { throw EvaluationError.invalidComplexTable(reason: "no rows") }
    guard complexIDs.count == genes.count else {
      throw EvaluationError.invalidComplexTable(
        reason: "\(genes.count) genes but \(complexIDs.count) complex ids")
    }
    if let names = complexNames, names.count != genes.count {
      throw EvaluationError.invalidComplexTable(
        reason: "\(genes.count) genes but \(names.count) complex names")
    }
    var order: [String] = []
    var position: [String: Int] = [:]
    var names: [String: String] = [:]
    var geneOrder: [String] = []
    var byGene: [String: Int] = [:]
    var repeated: [Int] = []
    for row in genes.indices {
      let gene = genes[row]
      let id = complexIDs[row]
      if gene.isEmpty {
        throw EvaluationError.invalidComplexTable(reason: "row \(row + 1): empty gene name")
      }
      if id.isEmpty {
        throw EvaluationError.invalidComplexTable(reason: "row \(row + 1): empty complex_id")
      }
      let c: Int
      if let p = position[id] {
        c = p
      } else {
        c = order.count
        position[id] = c
        order.append(id)
        names[id] = complexNames.map { $0[row].isEmpty ? id : $0[row] } ?? id
      }
      if let earlier = byGene[gene] {
        if earlier == c {
          repeated.append(row)
          continue
        }
        throw EvaluationError.conflictingComplex(gene: gene, first: order[earlier], second: id)
      }
      byGene[gene] = c
      geneOrder.append(gene)
    }
    self.complexes = order
    self.names = names
    self.genes = geneOrder
    self.repeatedRows = repeated
    self.complexIndexOfGene = byGene
  }

  /// Creates the assignment from a gene → complex map (genes and complexes sorted by name).
  public init(complexOfGene map: [String: String]) throws {
    let genes = map.keys.sorted()
    try self.init(genes: genes, complexIDs: genes.map { map[$0] ?? "" })
  }

  /// Number of complexes in the table.
  public var complexCount: Int { complexes.count }

  /// The complex identifier of `gene`, or `nil` when the gene is not in the table.
  public func complex(of gene: String) -> String? {
    complexIndexOfGene[gene].map { complexes[$0] }
  }

  /// The position of `gene`'s complex in `complexes`, or `nil`.
  public func complexIndex(of gene: String) -> Int? { complexIndexOfGene[gene] }
}
