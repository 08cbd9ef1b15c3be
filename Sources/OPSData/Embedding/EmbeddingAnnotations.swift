/// What an embedding file records beside the matrix: its provenance and, per gene, whether it is
/// the control, how many cells it had and its protein complex.
///
/// AnnData files get the per-gene facts as `obs` columns and the provenance in `uns`; HDF5 files
/// get the provenance as root attributes; TSV files hold the matrix alone.
///
/// | `obs` column | type | present |
/// |---|---|---|
/// | `is_control` | bool | always (all false when the control is unknown) |
/// | `n_cells` | int64 | when the cell counts are known |
/// | `complex_id`, `complex_name` | categorical, missing for genes outside every complex | with a complexes table |
public struct EmbeddingAnnotations: Sendable {
  /// Written as `uns` entries (AnnData) or root attributes (HDF5).
  public var provenance: OutputProvenance
  /// The control gene's name (e.g. `nontargeting`), or `nil` when unknown.
  public var controlGene: String?
  /// The number of cells behind each gene's row, by gene name (genes not listed: 0), or `nil`
  /// when unknown.
  public var cellCounts: [String: Int]?
  /// The complexes table that names each gene's complex, or `nil`.
  public var complexes: ComplexTable?

  /// Annotations from their parts; by default a fresh provenance and nothing per gene.
  public init(
    provenance: OutputProvenance = OutputProvenance(), controlGene: String? = nil, cellCounts: [String: Int]? = nil,
    complexes: ComplexTable? = nil
  ) {
    self.provenance = provenance
    self.controlGene = controlGene
    self.cellCounts = cellCounts
    self.complexes = complexes
  }

  /// The `obs` columns for the rows `genes`, in the order of the table above.
  public func obsColumns(for genes: [String]) -> [(String, AnnDataColumn)] {
    var columns: [(String, AnnDataColumn)] = [("is_control", .booleans(genes.map { $0 == controlGene }))]
    if let cellCounts {
      columns.append(("n_cells", .integers(genes.map { Int64(cellCounts[$0] ?? 0) })))
    }
    if let complexes {
      let found = genes.map { complexes.complex(of: $0).map { complexes.complexes[$0] } }
      columns.append(("complex_id", .categorical(found.map { $0?.id })))
      columns.append(("complex_name", .categorical(found.map { $0?.name })))
    }
    return columns
  }
}
