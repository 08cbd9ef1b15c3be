extension GeneEmbedding {
  /// Reads an AnnData file: genes from the `obs` index or an `obs` column, values from `X` (dense
  /// or sparse) or `obsm/KEY`, rows of one gene averaged (``AnnDataReader``).
  static func readH5AD(
    _ path: String, options: EmbeddingReadOptions
  ) throws -> (embedding: GeneEmbedding, report: EmbeddingReadReport) {
    try AnnDataReader(path: path).read(options: options)
  }
}
