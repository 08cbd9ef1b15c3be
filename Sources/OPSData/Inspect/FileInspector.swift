import Foundation
import GrapeSupport

/// Text summaries of the files this toolkit reads and writes (`grape inspect`): cell stores,
/// embedding files, per-cell code files and run folders.
public enum FileInspector {
  /// What a path holds.
  public enum Kind: String, Sendable {
    /// A cell store.
    case cellStore = "cell store"
    /// A gene embedding (HDF5, TSV or h5ad).
    case embedding
    /// Per-cell codes.
    case cellCodes = "per-cell codes"
    /// A training run folder.
    case run
  }

  /// Decides what `path` holds.
  ///
  /// - Throws: ``OPSDataError/fileNotFound(path:)``, or ``OPSDataError/invalidArgument(name:message:)``
  ///   when it is none of the known kinds.
  public static func kind(of path: String) throws -> Kind {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw OPSDataError.fileNotFound(path: path)
    }
    if isDirectory.boolValue {
      guard
        FileManager.default.fileExists(
          atPath: (path as NSString).appendingPathComponent("config.json"))
      else {
        throw OPSDataError.invalidRun(
          path: path, reason: "a folder without config.json is not a run")
      }
      return .run
    }
    switch GeneEmbedding.FileFormat(path: path) {
    case .tsv?, .csv?: return .embedding
    case .h5ad?: return .embedding
    default: break
    }
    let file: HDF5File
    do {
      file = try HDF5File.open(path)
    } catch OPSDataError.hdf5(_, _, _, let detail) where detail == "not an HDF5 file" {
      throw OPSDataError.invalidArgument(
        name: path,
        message:
          "not a cell store, embedding file (.h5, .tsv, .csv, .h5ad), per-cell code file or run folder")
    }
    let root = try file.root
    if root.attributes.contains("format") { return .cellStore }
    if file.contains("/embedding") { return .embedding }
    if file.contains("/X") && file.contains("/obs") { return .embedding }
    if file.contains("/obs/gene") { return .cellCodes }
    throw OPSDataError.invalidArgument(
      name: path,
      message:
        "not a cell store, embedding, per-cell code file or run folder (root holds: \(try root.members().joined(separator: ", ")))"
    )
  }

  /// A readable summary of the file at `path` (a run folder is summarised by the Training
  /// module's `RunFolder.summary()`, which knows its layout).
  ///
  /// - Parameters:
  ///   - sampleSize: cells sampled for a cell store's channel statistics.
  ///   - options: where the genes and values of an embedding file not written by the toolkit are.
  /// - Throws: ``OPSDataError/invalidArgument(name:message:)`` for a run folder.
  public static func describe(
    _ path: String, sampleSize: Int = 1000, options: EmbeddingReadOptions = EmbeddingReadOptions()
  ) throws -> String {
    switch try kind(of: path) {
    case .cellStore:
      return try CellStoreSummary(store: CellStore(path: path), sampleSize: sampleSize).render()
    case .embedding: return try describeEmbedding(path, options: options)
    case .cellCodes: return try describeCodes(path)
    case .run: throw OPSDataError.invalidArgument(name: path, message: "a run folder: see RunFolder.summary()")
    }
  }

  /// An embedding file; a per-cell or per-well file is described by its rows ("9 cells × 3,
  /// 3 genes") and then by the per-gene means it is read as.
  static func describeEmbedding(_ path: String, options: EmbeddingReadOptions) throws -> String {
    let format = GeneEmbedding.FileFormat(path: path) ?? .hdf5
    let (embedding, report) = try GeneEmbedding.readReporting(from: path, format: format, options: options)
    var norms: [Double] = []
    for g in 0..<embedding.count {
      norms.append(embedding.row(g).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
    }
    let sortedNorms = norms.sorted()
    let heading = report.rowNoun == "cells" ? "per-cell matrix" : "table"
    var lines = [report.isAggregated ? "\(heading) \(path): \(report.shape), read as per-gene means" : "embedding \(path)"]
    lines.append("  format      \(report.format.rawValue)")
    for (k, line) in report.lines.enumerated() {
      lines.append((k == 0 ? "  read        " : "              ") + line)
    }
    lines.append("  genes       \(embedding.count)")
    lines.append("  dimension   \(embedding.dimension)")
    lines.append("  source      \(embedding.source.isEmpty ? "(not recorded)" : embedding.source)")
    if let first = sortedNorms.first, let last = sortedNorms.last {
      lines.append(
        "  row norms   min \(CellStoreSummary.format(first).trimmingCharacters(in: .whitespaces)), median \(CellStoreSummary.format(sortedNorms[sortedNorms.count / 2]).trimmingCharacters(in: .whitespaces)), max \(CellStoreSummary.format(last).trimmingCharacters(in: .whitespaces))"
      )
    }
    let shown = embedding.genes.prefix(12).joined(separator: ", ")
    lines.append("  first genes \(shown)\(embedding.count > 12 ? ", ..." : "")")
    return lines.joined(separator: "\n")
  }

  static func describeCodes(_ path: String) throws -> String {
    let codes = try CellCodes.read(from: path)
    var lines = ["per-cell codes \(path)"]
    lines.append("  dataset     /\(codes.name) [\(codes.count), \(codes.dimension)]")
    lines.append("  genes       \(codes.genes.count)")
    lines.append(
      "  batches     \(codes.batches.count): \(codes.batches.prefix(12).joined(separator: ", "))\(codes.batches.count > 12 ? ", ..." : "")"
    )
    return lines.joined(separator: "\n")
  }

}
