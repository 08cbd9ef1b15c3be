import Foundation

/// A gene × d embedding matrix with its gene names: what `grape export` writes and
/// `grape evaluate` reads.
///
/// Four file formats, chosen by extension; the toolkit writes (INTERFACES.md, "Embedding files"):
/// - HDF5 (`.h5`, `.hdf5`): `/embedding` float32 [G, d], `/genes` strings [G], attribute `source`;
/// - TSV (`.tsv`, `.txt`): header `gene<TAB>dim_0<TAB>dim_1…`, then one row per gene;
/// - CSV (`.csv`): the same with commas;
/// - AnnData (`.h5ad`): `X` [G, d], `obs` index = gene symbols, `uns/source`; `anndata.read_h5ad`
///   opens it.
///
/// It reads these and the files users bring from pycytominer, pandas and scanpy: tables with a
/// named gene column among other metadata columns (``readTable(_:format:options:)``), AnnData files
/// with sparse `X`, genes in an `obs` column or a matrix in `obsm`
/// (``readH5AD(_:options:)``), and per-cell or per-well files, whose rows are averaged per gene.
public struct GeneEmbedding: Sendable, Equatable {
  /// File formats for embeddings.
  public enum FileFormat: String, Sendable, CaseIterable {
    /// HDF5 with `/embedding` and `/genes`.
    case hdf5
    /// Tab-separated text (read with any delimiter its header shows).
    case tsv
    /// Comma-separated text (read with any delimiter its header shows).
    case csv
    /// AnnData `.h5ad`.
    case h5ad

    /// The format implied by `path`'s extension, or `nil`.
    public init?(path: String) {
      switch URL(fileURLWithPath: path).pathExtension.lowercased() {
      case "h5", "hdf5", "he5": self = .hdf5
      case "tsv", "txt", "tab": self = .tsv
      case "csv": self = .csv
      case "h5ad": self = .h5ad
      default: return nil
      }
    }
  }

  /// Gene names, one per row, unique.
  public let genes: [String]
  /// The matrix, row-major `[genes.count, dimension]`.
  public let values: [Float]
  /// The number of columns, d.
  public let dimension: Int
  /// Where the embedding came from (e.g. `embedding`, `style-mean`, `features`); may be empty.
  public let source: String

  /// An embedding from its parts.
  ///
  /// - Throws: ``OPSDataError/invalidArgument(name:message:)`` when the sizes disagree, a gene
  ///   name repeats or a value is NaN or infinite.
  public init(genes: [String], values: [Float], dimension: Int, source: String = "") throws {
    guard dimension > 0 else {
      throw OPSDataError.invalidArgument(
        name: "embedding", message: "dimension \(dimension) is not positive")
    }
    guard values.count == genes.count * dimension else {
      throw OPSDataError.invalidArgument(
        name: "embedding",
        message: "\(values.count) values for \(genes.count) genes × \(dimension) dimensions")
    }
    var seen = Set<String>()
    for gene in genes where !seen.insert(gene).inserted {
      throw OPSDataError.invalidArgument(name: "embedding", message: "gene '\(gene)' appears twice")
    }
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw OPSDataError.invalidArgument(
        name: "embedding", message: "gene '\(genes[bad / dimension])' has a non-finite value (\(values[bad])) in column \(bad % dimension)")
    }
    self.genes = genes
    self.values = values
    self.dimension = dimension
    self.source = source
  }

  /// An embedding whose invariants (shape, unique genes) the caller guarantees.
  public init(unchecked genes: [String], values: [Float], dimension: Int, source: String = "") {
    self.genes = genes
    self.values = values
    self.dimension = dimension
    self.source = source
  }

  /// The number of genes, G.
  public var count: Int { genes.count }

  /// The row of gene `index`.
  public func row(_ index: Int) -> ArraySlice<Float> {
    values[(index * dimension)..<((index + 1) * dimension)]
  }

  /// The row of the gene named `name`, or `nil`.
  public func row(named name: String) -> ArraySlice<Float>? {
    genes.firstIndex(of: name).map { row($0) }
  }

  /// Reads an embedding file; the format follows the extension unless given.
  ///
  /// - Parameter options: where the genes and values are in a file not written by the toolkit.
  /// - Throws: ``OPSDataError/fileNotFound(path:)``, ``OPSDataError/invalidEmbedding(path:reason:)``
  ///   or ``OPSDataError/table(path:row:message:)`` for malformed files, or HDF5 errors.
  public static func read(
    from path: String, format: FileFormat? = nil, options: EmbeddingReadOptions = EmbeddingReadOptions()
  ) throws -> GeneEmbedding {
    try readReporting(from: path, format: format, options: options).embedding
  }

  /// Reads an embedding file and says how: where the genes came from, which columns or matrix,
  /// and whether rows were averaged per gene (``EmbeddingReadReport``).
  ///
  /// - Throws: as ``read(from:format:options:)``.
  public static func readReporting(
    from path: String, format: FileFormat? = nil, options: EmbeddingReadOptions = EmbeddingReadOptions()
  ) throws -> (embedding: GeneEmbedding, report: EmbeddingReadReport) {
    guard let format = format ?? FileFormat(path: path) else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "unknown extension (expected .h5, .hdf5, .tsv, .csv, .txt or .h5ad)")
    }
    guard FileManager.default.fileExists(atPath: path) else {
      throw OPSDataError.fileNotFound(path: path)
    }
    let result: (embedding: GeneEmbedding, report: EmbeddingReadReport)
    switch format {
    case .hdf5 where try isAnnData(path):
      result = try readH5AD(path, options: options)
    case .hdf5:
      let embedding = try readHDF5(path)
      result = (
        embedding,
        EmbeddingReadReport(
          format: .hdf5, geneSource: "/genes", matrix: "/embedding", rows: embedding.count, rowNoun: "rows",
          genes: embedding.count, dimension: embedding.dimension)
      )
    case .tsv, .csv: result = try readTable(path, format: format, options: options)
    case .h5ad: result = try readH5AD(path, options: options)
    }
    do {
      // The shape and unique genes hold by construction; this names a value that is not finite.
      _ = try GeneEmbedding(
        genes: result.embedding.genes, values: result.embedding.values, dimension: result.embedding.dimension)
    } catch let error as OPSDataError {
      throw OPSDataError.invalidEmbedding(path: path, reason: error.description)
    }
    return result
  }

  /// Whether an HDF5 file is AnnData saved under another extension: `X` and `obs` and no
  /// `/embedding`.
  static func isAnnData(_ path: String) throws -> Bool {
    let file = try HDF5File.open(path)
    return !file.contains("/embedding") && file.contains("/X") && file.contains("/obs")
  }

  /// Writes the embedding to `path` (temporary name, then renamed); the format follows the extension
  /// unless given.
  public func write(to path: String, format: FileFormat? = nil) throws {
    guard let format = format ?? FileFormat(path: path) else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "unknown extension (expected .h5, .hdf5, .tsv, .csv or .h5ad)")
    }
    switch format {
    case .hdf5: try writeHDF5(path)
    case .tsv: try writeTSV(path)
    case .csv: try writeCSV(path)
    case .h5ad: try writeH5AD(path)
    }
  }
}
