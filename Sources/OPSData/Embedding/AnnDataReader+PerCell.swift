extension AnnDataReader {
  /// The obs columns that name a cell's batch, in the order they are looked for when no column
  /// is given: the toolkit's own files write `batch`, pycytominer's tables `Metadata_batch`.
  static let defaultBatchColumns = ["batch", "Metadata_batch", "Metadata_Batch"]

  /// A per-cell AnnData file as a matrix with labels: the matrix at `matrixPath` (`X` or
  /// `obsm/KEY`; dense of any float or integer type, or sparse CSR/CSC) with one row per cell,
  /// the gene of each cell from obs column `geneColumn` (the obs index by its name or
  /// `obs_names`; nil: the first of
  /// ``EmbeddingReadOptions/defaultGeneColumns`` that obs has) and its batch from `batchColumn`
  /// (strings or categoricals, genes and batches in the categories' order), and the column
  /// names from the `var` index (for `X`; `dim_0`, `dim_1`, … for an obsm matrix).
  ///
  /// - Parameter batchRequired: without a `batchColumn`, whether a file whose obs has none of
  ///   ``defaultBatchColumns`` is an error (`true`) or has every cell in one batch `all`.
  /// - Throws: ``OPSDataError/invalidEmbedding(path:reason:)`` naming what is missing: the
  ///   matrix, a column, a row without a gene or batch.
  func perCell(
    matrixPath: String = "X", geneColumn: String?, batchColumn: String?, batchRequired: Bool = false
  ) throws -> (codes: CellCodes, columnNames: [String]) {
    let obs = try observations()
    let matrix = try matrixRows(matrixPath)
    guard obs.index.count == matrix.rows else {
      throw invalid("\(matrix.label) has \(matrix.rows) rows but the obs index has \(obs.index.count) names")
    }
    let columnList = obs.columns.isEmpty ? "none" : EmbeddingReadOptions.list(obs.columns)
    func labels(_ name: String, what: String) throws -> [String] {
      if !obs.columns.contains(name), name == obs.indexName || name == "obs_names" {
        if let row = obs.index.firstIndex(where: \.isEmpty) { throw invalid("obs index row \(row): missing \(what)") }
        return obs.index
      }
      guard obs.columns.contains(name) else {
        throw invalid("obs has no \(what) column '\(name)' (obs columns: \(columnList))")
      }
      let (values, _) = try columnValues(name, obs: obs)
      guard values.count == matrix.rows else {
        throw invalid("obs column '\(name)' has \(values.count) rows for \(matrix.rows) cells")
      }
      return try values.enumerated().map { row, value in
        guard let value, !value.isEmpty else { throw invalid("obs column '\(name)' row \(row): missing \(what)") }
        return value
      }
    }
    guard let geneName = geneColumn ?? EmbeddingReadOptions.detectGeneColumn(in: obs.columns) else {
      throw invalid(
        "obs has no gene column (none of \(EmbeddingReadOptions.defaultGeneColumns.prefix(3).joined(separator: ", ")), …; obs columns: \(columnList)); name it with --gene-column")
    }
    let batchName = batchColumn ?? Self.defaultBatchColumns.first { obs.columns.contains($0) }
    if batchName == nil, batchRequired {
      throw invalid("obs has no batch column (\(Self.defaultBatchColumns.joined(separator: ", ")); obs columns: \(columnList)); name it with --batch-column")
    }
    let genesOfCell = try labels(geneName, what: "gene")
    let batchesOfCell = try batchName.map { try labels($0, what: "batch") } ?? [String](repeating: "all", count: matrix.rows)
    // A categorical column keeps its categories' order (the store's /genes and /batches for the
    // toolkit's files); other columns number their values in order of first appearance.
    func categories(_ name: String?) -> [String] {
      guard let name, (try? obs.group.kind(of: "\(name)/categories")) == .dataset,
        let values = try? obs.group.dataset("\(name)/categories").readStrings()
      else { return [] }
      return values
    }
    func index(_ values: [String], known: [String]) -> (names: [String], codes: [Int32]) {
      var names: [String] = []
      var seen: [String: Int32] = [:]
      for v in known where seen[v] == nil {
        seen[v] = Int32(names.count)
        names.append(v)
      }
      let codes = values.map { v -> Int32 in
        if let c = seen[v] { return c }
        let c = Int32(names.count)
        seen[v] = c
        names.append(v)
        return c
      }
      return (names, codes)
    }
    let genes = index(genesOfCell, known: categories(geneName))
    let batches = index(batchesOfCell, known: categories(batchName))
    var columnNames = (0..<matrix.columns).map { "dim_\($0)" }
    if matrixPath == "X", try root.kind(of: "var") == .group {
      let v = try root.group("var")
      let indexName = v.attributes.contains("_index") ? try v.attributes.string("_index") : "_index"
      if try v.kind(of: indexName) == .dataset {
        let names = try v.dataset(indexName).readStrings()
        if names.count == matrix.columns { columnNames = names }
      }
    }
    guard matrix.columns > 0 else { throw invalid("\(matrix.label) has no columns") }
    let name = matrixPath.hasPrefix("obsm/") ? String(matrixPath.dropFirst(5)) : matrixPath
    do {
      let codes = try CellCodes(
        name: name, values: matrix.values, dimension: matrix.columns, geneOfCell: genes.codes,
        batchOfCell: batches.codes, genes: genes.names, batches: batches.names)
      return (codes, columnNames)
    } catch let error as OPSDataError {
      if case .invalidArgument(_, let message) = error { throw invalid(message) }
      throw error
    }
  }
}

extension CellCodes {
  /// Reads a per-cell AnnData file (`grape encode` and `grape features --cells-out` write them):
  /// the codes from `X`, or from `obsm[obsm]` when given (dense or sparse CSR/CSC), the gene in
  /// obs column `geneColumn` (default: the first of `gene`, `Metadata_gene`, … that obs has) and
  /// the batch in `batchColumn` (default: `batch`, else `Metadata_batch`; without either, every
  /// cell in one batch `all`, or an error when `batchRequired`).
  ///
  /// - Returns: the codes (named `X` or the obsm key) and the `var` index as column names.
  /// - Throws: ``OPSDataError/invalidEmbedding(path:reason:)`` naming the file and what it lacks.
  public static func readH5AD(
    from path: String, geneColumn: String? = nil, batchColumn: String? = nil, obsm: String? = nil, batchRequired: Bool = false
  ) throws -> (codes: CellCodes, columnNames: [String]) {
    let reader = try AnnDataReader(path: path)
    return try reader.perCell(
      matrixPath: obsm.map { "obsm/" + $0 } ?? "X", geneColumn: geneColumn, batchColumn: batchColumn, batchRequired: batchRequired)
  }

  /// Whether `path` is an AnnData file: its extension is `.h5ad`, or it is an HDF5 file whose
  /// root has the `encoding-type` attribute `anndata`.
  public static func isAnnData(_ path: String) -> Bool {
    if path.lowercased().hasSuffix(".h5ad") { return true }
    guard let file = try? HDF5File.open(path), let root = try? file.root, root.attributes.contains("encoding-type") else { return false }
    return (try? root.attributes.string("encoding-type")) == "anndata"
  }
}

extension CellCodes {
  /// The control gene an AnnData file records in `uns/control`, or nil.
  public static func readH5ADControl(from path: String) throws -> String? {
    let file = try HDF5File.open(path)
    let root = try file.root
    guard try root.kind(of: "uns/control") == .dataset else { return nil }
    let control = try root.dataset("uns/control").readString()
    return control.isEmpty ? nil : control
  }
}
