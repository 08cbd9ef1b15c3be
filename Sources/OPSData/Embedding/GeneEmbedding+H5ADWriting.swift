extension GeneEmbedding {
  /// Writes an AnnData file (on-disk format of anndata 0.8 and later: `encoding-type` and
  /// `encoding-version` attributes on every element): `X` [G, d] float32, `obs` indexed by gene
  /// with the columns of ``EmbeddingAnnotations``, `var` indexed `dim_0…`, and `uns` holding
  /// `source` and the provenance entries.
  func writeH5AD(_ path: String, annotations: EmbeddingAnnotations = EmbeddingAnnotations()) throws {
    let file = try HDF5File.create(path)
    let root = try file.root
    try AnnDataWriter.writeMatrix(
      root, x: values, rows: count, columns: dimension, obsIndex: genes, obs: annotations.obsColumns(for: genes),
      varIndex: (0..<dimension).map { "dim_\($0)" })
    try AnnDataWriter.writeUns(annotations.provenance, source: source, in: root)
    try file.commit()
  }
}
