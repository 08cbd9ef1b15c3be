import Foundation

extension GeneEmbedding {
  /// Cell texts that mean "no value" in tables written by pandas, R and spreadsheets (compared
  /// without case, after trimming spaces).
  static let missingValueTexts: Set<String> = ["", "nan", "-nan", "na", "n/a", "#n/a", "null", "none", "<na>"]

  /// Reads a delimited text table with a gene column: the toolkit's `gene<TAB>dim_0…`, a
  /// pycytominer profile (`Metadata_gene`, other `Metadata_*` columns, features), or any pandas
  /// table written with `to_csv`.
  ///
  /// - The delimiter follows the header line (tab, comma or semicolon), else the extension
  ///   (``CSVTable/sniffDelimiter(_:fallback:)``); fields may be quoted as RFC 4180 says.
  /// - The gene column is `options.geneColumn`, else the first of
  ///   ``EmbeddingReadOptions/defaultGeneColumns`` in the header.
  /// - Every other column is a dimension except `Metadata_*` columns, a pandas index (`Unnamed: 0`,
  ///   `index`), text columns (whose first value is not a number) and columns without any value.
  /// - Several rows of one gene (a per-cell or per-well table) are replaced by their mean.
  ///
  /// - Throws: ``OPSDataError/table(path:row:message:)`` naming the row and column of a missing
  ///   gene column, an empty gene name, a ragged row, or a feature cell that is empty, NaN or text.
  static func readTable(
    _ path: String, format: FileFormat, options: EmbeddingReadOptions
  ) throws -> (embedding: GeneEmbedding, report: EmbeddingReadReport) {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw OPSDataError.io(path: path, message: "cannot read the table")
    }
    let delimiter = CSVTable.sniffDelimiter(data, fallback: CSVTable.delimiter(forExtensionOf: path))
    let table = try CSVTable(data: data, path: path, delimiter: delimiter, nameEmptyColumns: true)
    let header = table.header
    let geneName = try geneColumn(of: table, options: options)
    guard let geneColumn = table.column(geneName) else {
      throw OPSDataError.table(path: path, row: 1, message: "no column '\(geneName)'")
    }
    guard !table.rows.isEmpty else {
      throw OPSDataError.table(path: path, row: nil, message: "the table has a header but no rows")
    }

    // Sort the columns: dimensions, and the rest with the reason they are left out.
    var features: [Int] = []
    var ignored: [String] = []
    for j in header.indices where j != geneColumn {
      let name = header[j]
      let lowered = name.lowercased()
      if lowered.hasPrefix("metadata_") || lowered == "index" || name.hasPrefix("Unnamed: ") {
        ignored.append(name)
        continue
      }
      let first = table.rows.lazy.map { $0[j].trimmingCharacters(in: .whitespaces) }
        .first { !missingValueTexts.contains($0.lowercased()) }
      guard let first else {
        ignored.append(name + " (empty)")
        continue
      }
      if Double(first) == nil {
        ignored.append(name)
      } else {
        features.append(j)
      }
    }
    guard !features.isEmpty else {
      throw OPSDataError.table(
        path: path, row: 1,
        message: "no numeric feature columns beside the gene column '\(geneName)'"
          + (ignored.isEmpty ? "" : " (left out: \(EmbeddingReadOptions.list(ignored)))"))
    }

    var means = GeneMeans(dimension: features.count)
    for (r, fields) in table.rows.enumerated() {
      let row = table.rowNumbers[r]
      let gene = fields[geneColumn].trimmingCharacters(in: .whitespaces)
      if missingValueTexts.contains(gene.lowercased()) {
        throw OPSDataError.table(
          path: path, row: row,
          message: "column '\(geneName)': \(gene.isEmpty ? "empty gene name" : "no gene name ('\(gene)')")")
      }
      let slot = means.beginRow(gene: gene)
      for (k, j) in features.enumerated() {
        let text = fields[j].trimmingCharacters(in: .whitespaces)
        guard let value = Double(text), value.isFinite, abs(value) <= Double(Float.greatestFiniteMagnitude) else {
          let what = text.isEmpty ? "empty cell" : "'\(text)' is not a finite number"
          throw OPSDataError.table(path: path, row: row, message: "column '\(header[j])': \(what)")
        }
        means.add(value, slot: slot, column: k)
      }
    }
    let report = EmbeddingReadReport(
      format: format, geneSource: "column '\(geneName)'", matrix: "feature columns",
      featureColumns: features.map { header[$0] }, ignoredColumns: ignored, rows: table.rows.count,
      rowNoun: "rows", genes: means.genes.count, dimension: features.count)
    return (means.embedding(source: ""), report)
  }

  /// The name of the gene column of `table`: the one `options` names, else the first default.
  private static func geneColumn(of table: CSVTable, options: EmbeddingReadOptions) throws -> String {
    if let wanted = options.geneColumn {
      if let found = EmbeddingReadOptions.match(wanted, in: table.header) { return found }
      if options.geneColumnRequired {
        throw OPSDataError.table(
          path: table.path, row: 1,
          message: "no gene column '\(wanted)' among the columns \(EmbeddingReadOptions.list(table.header))")
      }
    }
    if let found = EmbeddingReadOptions.detectGeneColumn(in: table.header) { return found }
    throw OPSDataError.table(
      path: table.path, row: 1,
      message: "no gene column among \(EmbeddingReadOptions.list(table.header)); name it 'gene' or "
        + "'Metadata_gene', or give its name (--gene-column NAME)")
  }
}
