extension AnnDataReader {
  /// A per-cell AnnData file as a matrix with labels: the dense `X` (any float or integer type)
  /// with one row per cell, the gene of each cell from obs column `geneColumn` and its batch from
  /// `batchColumn` (strings or categoricals, genes and batches in the categories' order), and the
  /// column names from the `var` index.
  ///
  /// - Throws: ``OPSDataError/invalidEmbedding(path:reason:)`` for a sparse `X`, a missing column
  ///   or a row without a gene or batch.
  func perCell(geneColumn: String, batchColumn: String?) throws -> (codes: CellCodes, columnNames: [String]) {
    guard try root.kind(of: "X") == .dataset else {
      throw invalid("X is not a dense matrix (per-cell profiles need a dense X)")
    }
    let x = try root.dataset("X")
    let shape = try x.shape
    guard shape.count == 2 else { throw invalid("X has shape \(shape), expected [cells, d]") }
    let obs = try observations()
    guard obs.index.count == shape[0] else {
      throw invalid("X has \(shape[0]) rows but the obs index has \(obs.index.count) names")
    }
    func labels(_ name: String) throws -> [String] {
      guard obs.columns.contains(name) else {
        throw invalid("obs has no column '\(name)' (columns: \(obs.columns.joined(separator: ", ")))")
      }
      let (values, _) = try columnValues(name, obs: obs)
      return try values.enumerated().map { row, value in
        guard let value else { throw invalid("obs column '\(name)' row \(row): missing value") }
        return value
      }
    }
    let genesOfCell = try labels(geneColumn)
    let batchesOfCell = try batchColumn.map(labels) ?? [String](repeating: "all", count: shape[0])
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
    let genes = index(genesOfCell, known: categories(geneColumn))
    let batches = index(batchesOfCell, known: categories(batchColumn))
    var columnNames = (0..<shape[1]).map { "dim_\($0)" }
    if try root.kind(of: "var") == .group {
      let v = try root.group("var")
      let indexName = v.attributes.contains("_index") ? try v.attributes.string("_index") : "_index"
      if try v.kind(of: indexName) == .dataset {
        let names = try v.dataset(indexName).readStrings()
        if names.count == shape[1] { columnNames = names }
      }
    }
    let codes = try CellCodes(
      name: "X", values: try x.read(as: Float.self), dimension: shape[1], geneOfCell: genes.codes,
      batchOfCell: batches.codes, genes: genes.names, batches: batches.names)
    return (codes, columnNames)
  }
}

extension CellCodes {
  /// Reads a per-cell AnnData file (`grape encode` or `grape features --cells-out` write them):
  /// dense `X`, the gene in obs column `geneColumn` (default `gene`) and the batch in
  /// `batchColumn` (default `batch` when obs has it, else every cell in one batch `all`).
  ///
  /// - Returns: the codes and the `var` index as column names.
  public static func readH5AD(
    from path: String, geneColumn: String? = nil, batchColumn: String? = nil
  ) throws -> (codes: CellCodes, columnNames: [String]) {
    let reader = try AnnDataReader(path: path)
    let columns = try reader.observations().columns
    let batch = batchColumn ?? (columns.contains("batch") ? "batch" : nil)
    return try reader.perCell(geneColumn: geneColumn ?? "gene", batchColumn: batch)
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
