import Foundation

/// The protein-complex ground truth: which genes belong together.
///
/// Read from a tab-separated file with the header `complex_id<TAB>complex_name<TAB>gene` and one row
/// per gene (the format of `Data/corum_complexes.tsv`). Fields are trimmed of surrounding white
/// space; blank lines are skipped; columns after the third are ignored. Every gene belongs to exactly
/// one complex: a gene listed twice (in the same or in another complex) is an error that names both
/// rows, because the CORUM metrics (mAP, k-means purity) assume one complex per gene.
///
/// Complexes keep the order of their first row, and genes the order of their rows, so the same file
/// always gives the same indices.
///
/// ```swift
/// let table = try ComplexTable(contentsOf: URL(fileURLWithPath: "Data/corum_complexes.tsv"))
/// table.complexes.count        // 14
/// table.complexIndex["PSMA5"]  // 3
/// ```
public struct ComplexTable: Sendable, Equatable {
  /// One complex: its identifier, its name and its member genes in table order.
  public struct Complex: Sendable, Equatable, Codable {
    /// The identifier as written in the table (the CORUM ComplexID for the bundled table).
    public let id: String
    /// The human-readable name.
    public let name: String
    /// The member gene symbols, in the order of their rows.
    public let genes: [String]

    /// A complex with the given identifier, name and genes.
    public init(id: String, name: String, genes: [String]) {
      self.id = id
      self.name = name
      self.genes = genes
    }
  }

  /// The header the file must start with, as its three first tab-separated fields.
  public static let header = ["complex_id", "complex_name", "gene"]

  /// The complexes, in the order of their first row.
  public let complexes: [Complex]
  /// Every gene of the table, in row order.
  public let genes: [String]
  /// For each gene, the index of its complex in `complexes`.
  public let complexIndex: [String: Int]
  /// Where the table came from (a path, or a label for text parsed from memory); used in errors.
  public let source: String

  /// Builds a table from complexes given in code.
  ///
  /// - Throws: `ComplexTableError.duplicateGene` when a gene appears twice,
  ///   `.emptyField` when an identifier, name or gene is empty.
  public init(complexes: [Complex], source: String = "<memory>") throws(ComplexTableError) {
    var rows: [[String]] = []
    for c in complexes {
      for g in c.genes { rows.append([c.id, c.name, g]) }
    }
    try self.init(rows: rows, firstRowNumber: 1, source: source)
  }

  /// Reads and parses the table at `url`.
  ///
  /// - Throws: `ComplexTableError.unreadable` when the file cannot be read as UTF-8, and the
  ///   parse errors of `init(tsv:source:)`.
  public init(contentsOf url: URL) throws(ComplexTableError) {
    let path = url.path
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw .unreadable(path: path, reason: Self.describe(error))
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw .unreadable(path: path, reason: "not valid UTF-8 text")
    }
    try self.init(tsv: text, source: path)
  }

  /// Parses the text of a complexes table.
  ///
  /// - Parameters:
  ///   - text: the whole file: a header line, then one `complex_id<TAB>complex_name<TAB>gene` row
  ///     per gene. `\n` and `\r\n` line ends are both accepted.
  ///   - source: the file name used in error messages.
  /// - Throws: `ComplexTableError` naming `source` and the 1-based line number at fault.
  public init(tsv text: String, source: String = "<memory>") throws(ComplexTableError) {
    // Swift treats "\r\n" as one Character, which `isNewline` matches like "\n".
    var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline })
    // A UTF-8 byte-order mark is not part of the header.
    if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
    guard let headerIndex = lines.firstIndex(where: { !Self.isBlank($0) }) else {
      throw .empty(path: source)
    }
    let header = lines[headerIndex].split(separator: "\t", omittingEmptySubsequences: false)
      .map { Self.trim($0) }
    guard header.count >= 3, Array(header.prefix(3)) == Self.header else {
      throw .badHeader(
        path: source, found: lines[headerIndex].replacingOccurrences(of: "\t", with: "<TAB>"))
    }
    var rows: [[String]] = []
    var rowNumbers: [Int] = []
    for i in (headerIndex + 1)..<lines.count where !Self.isBlank(lines[i]) {
      let fields = lines[i].split(separator: "\t", omittingEmptySubsequences: false)
        .map { Self.trim($0) }
      guard fields.count >= 3 else {
        throw .badRow(
          path: source, row: i + 1,
          reason:
            "expected 3 tab-separated fields (complex_id, complex_name, gene), found \(fields.count)"
        )
      }
      rows.append(Array(fields.prefix(3)))
      rowNumbers.append(i + 1)
    }
    try self.init(rows: rows, rowNumbers: rowNumbers, source: source)
    if complexes.isEmpty { throw .empty(path: source) }
  }

  private init(rows: [[String]], firstRowNumber: Int, source: String) throws(ComplexTableError) {
    try self.init(
      rows: rows, rowNumbers: Array(firstRowNumber..<(firstRowNumber + rows.count)), source: source)
  }

  private init(rows: [[String]], rowNumbers: [Int], source: String) throws(ComplexTableError) {
    var ids: [String] = []
    var names: [String: String] = [:]
    var nameRow: [String: Int] = [:]
    var members: [String: [String]] = [:]
    var geneRow: [String: Int] = [:]
    var geneList: [String] = []
    for (fields, row) in zip(rows, rowNumbers) {
      for (k, field) in Self.header.enumerated() where fields[k].isEmpty {
        throw .emptyField(path: source, row: row, field: field)
      }
      let (id, name, gene) = (fields[0], fields[1], fields[2])
      if let known = names[id] {
        if known != name {
          throw .conflictingName(
            path: source, row: row, id: id, name: name, firstName: known, firstRow: nameRow[id] ?? 0
          )
        }
      } else {
        names[id] = name
        nameRow[id] = row
        ids.append(id)
      }
      if let first = geneRow[gene] {
        throw .duplicateGene(path: source, gene: gene, row: row, firstRow: first)
      }
      geneRow[gene] = row
      geneList.append(gene)
      members[id, default: []].append(gene)
    }
    var index: [String: Int] = [:]
    var list: [Complex] = []
    for (k, id) in ids.enumerated() {
      let genes = members[id] ?? []
      for g in genes { index[g] = k }
      list.append(Complex(id: id, name: names[id] ?? id, genes: genes))
    }
    self.complexes = list
    self.genes = geneList
    self.complexIndex = index
    self.source = source
  }

  /// The index in `complexes` of the complex that holds `gene`, or `nil` when the table lacks it.
  public func complex(of gene: String) -> Int? { complexIndex[gene] }

  /// The complex names, in the order of `complexes`.
  public var complexNames: [String] { complexes.map(\.name) }

  private static func trim(_ s: Substring) -> String {
    s.trimmingCharacters(in: .whitespaces)
  }

  private static func isBlank(_ s: Substring) -> Bool {
    s.allSatisfy { $0 == " " || $0 == "\t" }
  }

  private static func describe(_ error: Error) -> String {
    let ns = error as NSError
    if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError {
      return "no such file"
    }
    return ns.localizedDescription
  }
}

/// What can go wrong reading a complexes table; each message names the file and, for a row, its
/// 1-based line number.
public enum ComplexTableError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file could not be opened or is not UTF-8 text.
  case unreadable(path: String, reason: String)
  /// The file holds no header or no data rows.
  case empty(path: String)
  /// The first line is not `complex_id<TAB>complex_name<TAB>gene`.
  case badHeader(path: String, found: String)
  /// A row has fewer than three tab-separated fields.
  case badRow(path: String, row: Int, reason: String)
  /// A row leaves the named field empty.
  case emptyField(path: String, row: Int, field: String)
  /// A gene is listed a second time; the table requires one complex per gene.
  case duplicateGene(path: String, gene: String, row: Int, firstRow: Int)
  /// A complex identifier is given two different names.
  case conflictingName(
    path: String, row: Int, id: String, name: String, firstName: String, firstRow: Int)

  /// A one-line message naming the file, the row and the field at fault.
  public var description: String {
    switch self {
    case .unreadable(let path, let reason):
      return "\(path): cannot read the complexes table: \(reason)"
    case .empty(let path):
      return
        "\(path): the complexes table has no rows (expected a header complex_id<TAB>complex_name<TAB>gene, then one row per gene)"
    case .badHeader(let path, let found):
      return
        "\(path), row 1: expected the header complex_id<TAB>complex_name<TAB>gene, found \"\(found)\""
    case .badRow(let path, let row, let reason):
      return "\(path), row \(row): \(reason)"
    case .emptyField(let path, let row, let field):
      return "\(path), row \(row): field \(field) is empty"
    case .duplicateGene(let path, let gene, let row, let firstRow):
      return
        "\(path), row \(row): gene \(gene) is already listed in row \(firstRow); each gene must belong to exactly one complex"
    case .conflictingName(let path, let row, let id, let name, let firstName, let firstRow):
      return
        "\(path), row \(row): complex_id \(id) is named \"\(name)\" here but \"\(firstName)\" in row \(firstRow)"
    }
  }
}
