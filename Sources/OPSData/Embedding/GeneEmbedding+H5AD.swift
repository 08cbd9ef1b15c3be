extension GeneEmbedding {
  /// Reads an AnnData file: genes from the `obs` index or an `obs` column, values from `X` (dense
  /// or sparse) or `obsm/KEY`, rows of one gene averaged (``AnnDataReader``).
  static func readH5AD(
    _ path: String, options: EmbeddingReadOptions
  ) throws -> (embedding: GeneEmbedding, report: EmbeddingReadReport) {
    try AnnDataReader(path: path).read(options: options)
  }

  /// Writes an AnnData file (on-disk format of anndata 0.8 and later: `encoding-type` and
  /// `encoding-version` attributes on every element).
  func writeH5AD(_ path: String) throws {
    let file = try HDF5File.create(path)
    let root = try file.root
    func encode(_ object: HDF5Object, _ type: String, _ version: String) throws {
      try object.attributes.set("encoding-type", type)
      try object.attributes.set("encoding-version", version)
    }
    try encode(root, "anndata", "0.1.0")
    try encode(try root.write("X", values, shape: [count, dimension]), "array", "0.2.0")
    for (name, index) in [("obs", genes), ("var", (0..<dimension).map { "dim_\($0)" })] {
      let group = try root.createGroup(name)
      try encode(group, "dataframe", "0.2.0")
      try group.attributes.set("_index", "_index")
      try group.attributes.set("column-order", [] as [Double])
      try encode(try group.writeStrings("_index", index), "string-array", "0.2.0")
    }
    for name in ["layers", "obsm", "obsp", "varm", "varp"] {
      try encode(try root.createGroup(name), "dict", "0.1.0")
    }
    let uns = try root.createGroup("uns")
    try encode(uns, "dict", "0.1.0")
    try encode(try uns.writeString("source", source), "string", "0.2.0")
    try file.commit()
  }
}
