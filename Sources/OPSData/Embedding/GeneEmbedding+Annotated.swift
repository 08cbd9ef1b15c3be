extension GeneEmbedding {
  /// Writes the embedding with what it records about itself (temporary name, then renamed); the
  /// format follows the extension unless given.
  ///
  /// HDF5 files get the provenance as root attributes beside `source`; AnnData files get the
  /// per-gene `obs` columns and the provenance in `uns`; TSV and CSV files hold the matrix alone.
  public func write(to path: String, format: FileFormat? = nil, annotations: EmbeddingAnnotations) throws {
    guard let format = format ?? FileFormat(path: path) else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "unknown extension (expected .h5, .hdf5, .tsv, .csv or .h5ad)")
    }
    switch format {
    case .hdf5: try writeHDF5(path, annotations: annotations)
    case .tsv: try writeTSV(path)
    case .csv: try writeCSV(path)
    case .h5ad: try writeH5AD(path, annotations: annotations)
    }
  }
}
