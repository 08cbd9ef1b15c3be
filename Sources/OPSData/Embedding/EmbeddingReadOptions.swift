/// How to read an embedding file that is not the toolkit's own: which column holds the gene
/// names and which matrix holds the values.
///
/// The defaults find the genes in the places pycytominer, scanpy and pandas put them (see
/// ``defaultGeneColumns``); the toolkit's own files need no options.
public struct EmbeddingReadOptions: Sendable, Equatable {
  /// The column of a table, or the `obs` column of an AnnData file, that holds the gene names;
  /// `nil` detects it. For AnnData, the name of the `obs` index (or `obs_names`) selects the index.
  public var geneColumn: String?
  /// Whether a ``geneColumn`` that the file lacks is an error (`true`) or detection takes over
  /// (`false`, for baselines that may come from elsewhere).
  public var geneColumnRequired: Bool
  /// Read an AnnData file's matrix from `obsm/KEY` (per-cell codes, a PCA, …) instead of `X`.
  public var obsm: String?

  /// Options from their parts; the defaults detect everything.
  public init(geneColumn: String? = nil, geneColumnRequired: Bool = true, obsm: String? = nil) {
    self.geneColumn = geneColumn
    self.geneColumnRequired = geneColumnRequired
    self.obsm = obsm
  }

  /// The gene column names tried, in this order, when none is given: the toolkit's `gene`, then
  /// pycytominer's metadata names (every metadata column of a pycytominer profile starts with
  /// `Metadata_`) and the `gene_symbol` of other tables. An exact match wins; then a match that
  /// ignores case.
  public static let defaultGeneColumns = [
    "gene", "Metadata_gene", "Metadata_Gene", "gene_symbol", "Metadata_gene_symbol",
    "Metadata_symbol", "symbol", "gene_symbol_0", "Metadata_gene_symbol_0",
  ]

  /// The first of ``defaultGeneColumns`` among `columns` (exact match first, then ignoring case).
  static func detectGeneColumn(in columns: [String]) -> String? {
    for name in defaultGeneColumns where columns.contains(name) { return name }
    for name in defaultGeneColumns {
      if let found = columns.first(where: { $0.lowercased() == name.lowercased() }) { return found }
    }
    return nil
  }

  /// `name` among `columns`: the exact name, else the only one equal to it when case is ignored.
  static func match(_ name: String, in columns: [String]) -> String? {
    if columns.contains(name) { return name }
    let folded = columns.filter { $0.lowercased() == name.lowercased() }
    return folded.count == 1 ? folded[0] : nil
  }

  /// Up to `limit` names quoted and joined, with `…` when there are more.
  static func list(_ names: [String], limit: Int = 8) -> String {
    let shown = names.prefix(limit).map { "'\($0)'" }.joined(separator: ", ")
    return names.count > limit ? shown + ", … (\(names.count) in all)" : shown
  }
}
