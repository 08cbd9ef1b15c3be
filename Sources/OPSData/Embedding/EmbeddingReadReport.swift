/// How an embedding file was read: where the gene names came from, which columns or matrix gave
/// the values, and whether several rows of a gene (cells, wells) were averaged into one.
///
/// `grape evaluate` prints ``lines`` and `grape inspect` shows them, so that a user sees what was
/// taken from a table or AnnData file that was not written by this toolkit.
public struct EmbeddingReadReport: Sendable, Equatable {
  /// The file format read.
  public var format: GeneEmbedding.FileFormat
  /// Where the gene names came from, in words: `column 'Metadata_gene'`, `obs index`,
  /// `obs column 'gene' (categorical)`, `/genes`.
  public var geneSource: String
  /// Where the values came from: `X`, `X (csr_matrix)`, `obsm/X_grape`, `/embedding`, or
  /// `feature columns` for a table.
  public var matrix: String
  /// The table columns used as dimensions, in file order (empty for HDF5 formats).
  public var featureColumns: [String]
  /// The table columns left out: the gene column's `Metadata_*` siblings, text columns, a pandas
  /// index and columns without any value (empty for HDF5 formats).
  public var ignoredColumns: [String]
  /// The rows of the file: cells or wells for a per-cell or per-well file, else genes.
  public var rows: Int
  /// What one row is called in messages: `rows` for tables, `cells` for AnnData.
  public var rowNoun: String
  /// The genes of the embedding, after averaging.
  public var genes: Int
  /// The columns of the embedding, d.
  public var dimension: Int

  /// A report from its parts.
  public init(
    format: GeneEmbedding.FileFormat, geneSource: String, matrix: String, featureColumns: [String] = [],
    ignoredColumns: [String] = [], rows: Int, rowNoun: String, genes: Int, dimension: Int
  ) {
    self.format = format
    self.geneSource = geneSource
    self.matrix = matrix
    self.featureColumns = featureColumns
    self.ignoredColumns = ignoredColumns
    self.rows = rows
    self.rowNoun = rowNoun
    self.genes = genes
    self.dimension = dimension
  }

  /// Whether some gene had several rows, which were replaced by their mean.
  public var isAggregated: Bool { rows > genes }

  /// The shape of the file: `6,540 cells × 16, 106 genes`, or `106 genes × 16` when each gene has
  /// one row.
  public var shape: String {
    isAggregated
      ? "\(Self.count(rows)) \(rowNoun) × \(dimension), \(Self.count(genes)) genes"
      : "\(Self.count(genes)) genes × \(dimension)"
  }

  /// One line per fact, for a log: the gene source and the values used, then the averaging (when
  /// there was any), e.g. `aggregated 6,540 rows to 106 genes by mean`.
  public var lines: [String] {
    var lines: [String] = []
    if featureColumns.isEmpty {
      lines.append("genes from \(geneSource), values from \(matrix), \(shape)")
    } else {
      var line = "genes from \(geneSource), \(featureColumns.count) feature columns"
      if !ignoredColumns.isEmpty {
        line += ", \(ignoredColumns.count) ignored (\(ignoredColumns.prefix(6).joined(separator: ", "))\(ignoredColumns.count > 6 ? ", …" : ""))"
      }
      lines.append(line)
    }
    if isAggregated {
      lines.append("aggregated \(Self.count(rows)) \(rowNoun) to \(Self.count(genes)) genes by mean")
    }
    return lines
  }

  /// `n` with thousands separated by commas (`6,540`).
  static func count(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (k, c) in digits.enumerated() {
      if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return n < 0 ? "-" + out : out
  }
}
