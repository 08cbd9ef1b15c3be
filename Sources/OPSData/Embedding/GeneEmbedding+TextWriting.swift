import Foundation
import GrapeSupport

extension GeneEmbedding {
  /// Writes the header and one row per gene; numbers use the shortest form that reads back exactly.
  /// A gene name holding a quote is quoted (RFC 4180), as the reader expects.
  func writeTSV(_ path: String) throws {
    for gene in genes where gene.contains("\t") || gene.contains("\n") || gene.contains("\r") {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "gene name '\(gene)' contains a tab or line break")
    }
    var text = "gene"
    for j in 0..<dimension { text += "\tdim_\(j)" }
    text += "\n"
    for (i, gene) in genes.enumerated() {
      text += gene.contains("\"") ? "\"" + gene.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : gene
      for value in row(i) { text += "\t\(value)" }
      text += "\n"
    }
    try writeAtomically(Data(text.utf8), to: path)
  }

  /// Writes a comma-separated header `gene,dim_0,…` and one row per gene; a gene name holding a
  /// comma, quote or line break is quoted as RFC 4180 says, so pandas' `read_csv` reads it back.
  func writeCSV(_ path: String) throws {
    var text = "gene"
    for j in 0..<dimension { text += ",dim_\(j)" }
    text += "\n"
    for (i, gene) in genes.enumerated() {
      let quoted = gene.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
      text += quoted ? "\"" + gene.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : gene
      for value in row(i) { text += ",\(value)" }
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
