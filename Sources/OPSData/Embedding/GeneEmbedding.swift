import Foundation

/// A gene × d embedding matrix with its gene names: what `grape export` writes and
/// `grape evaluate` reads.
///
/// Three file formats (INTERFACES.md, "Embedding files"), chosen by extension:
/// - HDF5 (`.h5`, `.hdf5`): `/embedding` float32 [G, d], `/genes` strings [G], attribute `source`;
/// - TSV (`.tsv`, `.txt`): header `gene<TAB>dim_0<TAB>dim_1…`, then one row per gene;
/// - AnnData (`.h5ad`): `X` [G, d], `obs` index = gene symbols, `uns/source`; `anndata.read_h5ad`
///   opens it.
public struct GeneEmbedding: Sendable, Equatable {
  /// File formats for embeddings.
  public enum FileFormat: String, Sendable, CaseIterable {
    /// HDF5 with `/embedding` and `/genes`.
    case hdf5
    /// Tab-separated text.
    case tsv
    /// AnnData `.h5ad`.
    case h5ad

    /// The format implied by `path`'s extension, or `nil`.
    public init?(path: String) {
      switch URL(fileURLWithPath: path).pathExtension.lowercased() {
      case "h5", "hdf5", "he5": self = .hdf5
      case "tsv", "txt": self = .tsv
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
  /// - Throws: ``OPSDataError/fileNotFound(path:)``, ``OPSDataError/invalidEmbedding(path:reason:)``
  ///   for malformed files, or HDF5 errors.
  public static func read(from path: String, format: FileFormat? = nil) throws -> GeneEmbedding {
    guard let format = format ?? FileFormat(path: path) else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "unknown extension (expected .h5, .hdf5, .tsv or .h5ad)")
    }
    guard FileManager.default.fileExists(atPath: path) else {
      throw OPSDataError.fileNotFound(path: path)
    }
    switch format {
    case .hdf5: return try readHDF5(path)
    case .tsv: return try readTSV(path)
    case .h5ad: return try readH5AD(path)
    }
  }

  /// Writes the embedding to `path` (temporary name, then renamed); the format follows the extension
  /// unless given.
  public func write(to path: String, format: FileFormat? = nil) throws {
    guard let format = format ?? FileFormat(path: path) else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "unknown extension (expected .h5, .hdf5, .tsv or .h5ad)")
    }
    switch format {
    case .hdf5: try writeHDF5(path)
    case .tsv: try writeTSV(path)
    case .h5ad: try writeH5AD(path)
    }
  }
}
