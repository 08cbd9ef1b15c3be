extension CellCodes {
  /// Writes the codes as an AnnData file for scanpy (on-disk format of anndata 0.8 and later).
  ///
  /// - `X`: the codes, float32 [cells, d]; `obsm/X_grape` is the same matrix (an HDF5 hard
  ///   link, stored once), so `sc.pp.neighbors(adata, use_rep="X_grape")` and tools that read `X`
  ///   both work.
  /// - `obs`: indexed by the cell's row in the cell store (`"0"`, `"1"`, …); `gene` and `batch`
  ///   categorical (categories in the store's `/genes` and `/batches` order), `is_control`
  ///   (bool), then each field (e.g. `plate`, `well`) categorical.
  /// - `var`: indexed by `columnNames`, else `dim_0`, `dim_1`, ….
  /// - `uns`: `source` (`style-codes` unless given) and the provenance entries.
  func writeH5AD(
    _ path: String, fields: [CellField], provenance: OutputProvenance, controlGene: String?,
    columnNames: [String]? = nil, source: String = "style-codes"
  ) throws {
    let control = controlGene.flatMap { genes.firstIndex(of: $0) }.map(Int32.init)
    var obs: [(String, AnnDataColumn)] = [
      ("gene", .categorical(codes: geneOfCell, categories: genes)),
      ("batch", .categorical(codes: batchOfCell, categories: batches)),
      ("is_control", .booleans(geneOfCell.map { $0 == control })),
    ]
    for field in fields { obs.append((field.name, .categorical(field.labels.map { Optional($0) }))) }
    let file = try HDF5File.create(path)
    let root = try file.root
    try AnnDataWriter.writeMatrix(
      root, x: values, rows: count, columns: dimension, obsIndex: (0..<count).map(String.init), obs: obs,
      varIndex: columnNames ?? (0..<dimension).map { "dim_\($0)" })
    try root.link("X", as: "obsm/X_grape")
    try AnnDataWriter.writeUns(provenance, source: source, in: root)
    try file.commit()
  }
}
