import Foundation

extension CellCodes {
  /// The dataset that names the columns of a per-cell matrix in an HDF5 file (`/feature_names`).
  public static let columnNamesDataset = "feature_names"

  /// Writes one row per cell as pycytominer reads per-cell profiles: the columns
  /// `Metadata_gene`, `Metadata_batch`, `Metadata_plate`, `Metadata_well`, `Metadata_cell` (the
  /// cell's row in the store), then one column per feature, comma-separated with a header line.
  ///
  /// `Metadata_plate` and `Metadata_well` come from the fields `plate` and `well`; without them the
  /// plate is the batch and the well `none`. Numbers use the shortest form that reads back exactly;
  /// names holding a comma, quote or line break are quoted (RFC 4180). Written to a temporary name,
  /// then renamed.
  ///
  /// - Throws: ``OPSDataError/io(path:message:)`` when the file cannot be written.
  func writeProfileCSV(_ path: String, fields: [CellField], columnNames: [String]) throws {
    func quoted(_ s: String) -> String {
      s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
        ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
    let plate = fields.first { $0.name == "plate" }?.labels
    let well = fields.first { $0.name == "well" }?.labels
    var text = (["Metadata_gene", "Metadata_batch", "Metadata_plate", "Metadata_well", "Metadata_cell"] + columnNames)
      .map(quoted).joined(separator: ",")
    text += "\n"
    text.reserveCapacity(count * (dimension * 12 + 40))
    for i in 0..<count {
      let batch = batches[Int(batchOfCell[i])]
      text += quoted(genes[Int(geneOfCell[i])])
      text += "," + quoted(batch)
      text += "," + quoted(plate?[i] ?? batch)
      text += "," + quoted(well?[i] ?? "none")
      text += ",\(i)"
      for j in 0..<dimension { text += ",\(values[i * dimension + j])" }
      text += "\n"
    }
    try writeAtomically(Data(text.utf8), to: path)
  }

  /// The column names recorded beside the codes of an HDF5 file (`/feature_names`), or nil when
  /// the file has none or their count is not `dimension`.
  public static func readColumnNames(from path: String, dimension: Int) throws -> [String]? {
    let root = try HDF5File.open(path).root
    guard try root.kind(of: columnNamesDataset) == .dataset else { return nil }
    let names = try root.dataset(columnNamesDataset).readStrings()
    return names.count == dimension ? names : nil
  }
}

extension CellCodes {
  /// The `control` root attribute of an HDF5 file (cell stores and the per-cell files written
  /// from them record it), or nil.
  public static func readControl(from path: String) throws -> String? {
    let file = try HDF5File.open(path)
    let attributes = try file.root.attributes
    guard try attributes.names().contains("control") else { return nil }
    let control = try attributes.string("control")
    return control.isEmpty ? nil : control
  }

  /// Reads a per-cell profile table as pycytominer writes one (`.csv`, `.tsv`): one row per cell,
  /// the gene in `geneColumn` (default `Metadata_gene`), the batch in `batchColumn` (default
  /// `Metadata_batch`, else `Metadata_plate`, else every cell in one batch `all`), and every
  /// other column not named `Metadata_*` whose first value is a number as a feature. Genes and
  /// batches are numbered in order of their first row.
  ///
  /// - Returns: the codes (dataset name `features`) and the feature columns' names.
  /// - Throws: ``OPSDataError/table(path:row:message:)`` for a missing gene column, a table
  ///   without feature columns, or an empty or non-numeric feature value (naming its line and
  ///   column); `nan` is read as NaN and left for the caller to refuse.
  public static func readProfileTable(
    from path: String, geneColumn: String? = nil, batchColumn: String? = nil
  ) throws -> (codes: CellCodes, columnNames: [String]) {
    let table = try CSVTable(path: path)
    guard let gene = table.column(geneColumn ?? "Metadata_gene") else {
      throw OPSDataError.table(
        path: path, row: 1,
        message: "no gene column '\(geneColumn ?? "Metadata_gene")' (columns: \(table.header.prefix(8).joined(separator: ", ")))")
    }
    var batch: Int?
    if let batchColumn {
      guard let b = table.column(batchColumn) else {
        throw OPSDataError.table(path: path, row: 1, message: "no batch column '\(batchColumn)'")
      }
      batch = b
    } else {
      batch = table.column("Metadata_batch") ?? table.column("Metadata_plate")
    }
    guard let first = table.rows.first else {
      throw OPSDataError.table(path: path, row: nil, message: "no data rows")
    }
    let features = table.header.indices.filter { j in
      j != gene && j != batch && !table.header[j].hasPrefix("Metadata_") && Double(first[j]) != nil
    }
    guard !features.isEmpty else {
      throw OPSDataError.table(path: path, row: 1, message: "no numeric feature column besides the Metadata_ columns")
    }
    var genes: [String] = []
    var geneIndex: [String: Int32] = [:]
    var batches: [String] = []
    var batchIndex: [String: Int32] = [:]
    var geneOfCell: [Int32] = []
    var batchOfCell: [Int32] = []
    var values: [Float] = []
    values.reserveCapacity(table.rows.count * features.count)
    for (r, row) in table.rows.enumerated() {
      let g = row[gene]
      if geneIndex[g] == nil {
        geneIndex[g] = Int32(genes.count)
        genes.append(g)
      }
      let b = batch.map { row[$0] } ?? "all"
      if batchIndex[b] == nil {
        batchIndex[b] = Int32(batches.count)
        batches.append(b)
      }
      geneOfCell.append(geneIndex[g] ?? 0)
      batchOfCell.append(batchIndex[b] ?? 0)
      for j in features {
        guard let v = Double(row[j].trimmingCharacters(in: .whitespaces)) else {
          throw OPSDataError.table(
            path: path, row: table.rowNumbers[r],
            message: "column '\(table.header[j])' holds '\(row[j])', not a number")
        }
        values.append(Float(v))
      }
    }
    let codes = try CellCodes(
      name: "features", values: values, dimension: features.count, geneOfCell: geneOfCell,
      batchOfCell: batchOfCell, genes: genes, batches: batches)
    return (codes, features.map { table.header[$0] })
  }
}
