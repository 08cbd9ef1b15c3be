import Foundation
import GrapeSupport

extension GeneEmbedding {
  /// Names of the gene column that the reader recognises (compared without case): the
  /// toolkit's `gene`, and the metadata columns of pycytominer-style profiles.
  static let geneColumnNames: Set<String> = ["gene", "metadata_gene", "metadata_gene_symbol", "gene_symbol", "metadata_symbol", "symbol"]

  /// Reads a header `gene<TAB>dim_0…` and one row per gene. The gene column may also be named as
  /// in pycytominer profiles (`Metadata_gene`, …) and stand anywhere; other `Metadata_*` columns
  /// are skipped, every remaining column is a dimension.
  static func readTSV(_ path: String) throws -> GeneEmbedding {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw OPSDataError.io(path: path, message: "cannot read as UTF-8 text")
    }
    var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
      .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
    while let last = lines.last, last.isEmpty { lines.removeLast() }
    guard let header = lines.first else {
      throw OPSDataError.invalidEmbedding(path: path, reason: "file is empty")
    }
    let columns = header.split(separator: "\t", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    guard let geneColumn = columns.firstIndex(where: { geneColumnNames.contains($0.lowercased()) }) else {
      let shown = columns.prefix(4).map { "'\($0)'" }.joined(separator: ", ") + (columns.count > 4 ? ", …" : "")
      throw OPSDataError.table(
        path: path, row: 1,
        message: "no gene column among \(shown); name it 'gene' (or Metadata_gene), the other columns are the dimensions")
    }
    let valueColumns = columns.indices.filter { $0 != geneColumn && !columns[$0].lowercased().hasPrefix("metadata_") }
    guard !valueColumns.isEmpty else {
      throw OPSDataError.table(path: path, row: 1, message: "no value columns beside the gene column '\(columns[geneColumn])'")
    }
    let dimension = valueColumns.count
    var genes: [String] = []
    var values: [Float] = []
    genes.reserveCapacity(lines.count)
    values.reserveCapacity(lines.count * dimension)
    for (k, line) in lines.enumerated().dropFirst() {
      let row = k + 1
      if line.isEmpty { throw OPSDataError.table(path: path, row: row, message: "empty line") }
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      guard fields.count == columns.count else {
        throw OPSDataError.table(
          path: path, row: row, message: "\(fields.count) fields, the header has \(columns.count)")
      }
      let gene = String(fields[geneColumn])
      guard !gene.isEmpty else {
        throw OPSDataError.table(path: path, row: row, message: "empty gene name")
      }
      genes.append(gene)
      for j in valueColumns {
        guard let value = Float(fields[j].trimmingCharacters(in: .whitespaces)), value.isFinite else {
          throw OPSDataError.table(
            path: path, row: row,
            message: "column '\(columns[j])': '\(fields[j])' is not a finite number")
        }
        values.append(value)
      }
    }
    do {
      return try GeneEmbedding(genes: genes, values: values, dimension: dimension, source: "")
    } catch let error as OPSDataError {
      throw OPSDataError.invalidEmbedding(path: path, reason: error.description)
    }
  }

  /// Writes the header and one row per gene; numbers use the shortest form that reads back exactly.
  func writeTSV(_ path: String) throws {
    for gene in genes where gene.contains("\t") || gene.contains("\n") || gene.contains("\r") {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "gene name '\(gene)' contains a tab or line break")
    }
    var text = "gene"
    for j in 0..<dimension { text += "\tdim_\(j)" }
    text += "\n"
    for (i, gene) in genes.enumerated() {
      text += gene
      for value in row(i) { text += "\t\(value)" }
      text += "\n"
    }
    try writeAtomically(Data(text.utf8), to: path)
  }
}

/// Writes `data` to a temporary file beside `path` and renames it into place.
func writeAtomically(_ data: Data, to path: String) throws {
  do { try AtomicFile.write(data, to: path) } catch {
    throw OPSDataError.io(path: path, message: error.reason)
  }
}
