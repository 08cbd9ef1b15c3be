import OPSData

/// Aggregation of per-cell profiles into one row per gene, as pycytominer's
/// `aggregate(population_df, strata=["Metadata_gene"], operation="mean" | "median")`: the mean or
/// the median (the average of the two middle values for an even count, as pandas) of each
/// feature over the gene's cells. Genes come in the order of the gene list; a gene without cells
/// has no row.
public enum ProfileAggregation {
  /// The statistic of `grape profile --aggregate`.
  public enum Method: String, CaseIterable, Sendable {
    /// The mean over the gene's cells.
    case mean
    /// The median over the gene's cells.
    case median
  }

  /// The per-gene rows of `profiles` and the cells behind each.
  ///
  /// - Parameter source: the embedding's `source` attribute.
  public static func aggregate(
    _ profiles: CellProfiles, method: Method, source: String = "profile"
  ) -> (embedding: GeneEmbedding, cellCounts: [Int]) {
    let d = profiles.dimension
    var cellsOfGene = [[Int]](repeating: [], count: profiles.genes.count)
    for (i, g) in profiles.geneOfCell.enumerated() { cellsOfGene[g].append(i) }
    var names: [String] = []
    var values: [Float] = []
    var counts: [Int] = []
    var column: [Double] = []
    for (g, cells) in cellsOfGene.enumerated() where !cells.isEmpty {
      names.append(profiles.genes[g])
      counts.append(cells.count)
      for j in 0..<d {
        column = cells.map { profiles.values[$0 * d + j] }
        switch method {
        case .mean: values.append(Float(column.reduce(0, +) / Double(cells.count)))
        case .median: values.append(Float(ProfileNormalizer.median(column)))
        }
      }
    }
    return (GeneEmbedding(unchecked: names, values: values, dimension: d, source: source), counts)
  }
}
