/// Whether the complexes (and the genes) are retrieved better than chance: copairs'
/// `mean_average_precision` with `sameby = complex` and with `sameby = gene`.
///
/// The per-query APs are those of the mAP (each evaluated gene ranks every other evaluated gene;
/// the genes of its complex are the positives), so every query has the configuration
/// (positives = its complex's other evaluated genes, total = evaluated genes − 1). Grouped by
/// complex, a complex's mAP is the mean AP of its genes; grouped by gene, a gene's mAP is its own
/// AP. ``Significance`` gives the permutation p-values and the Benjamini–Hochberg correction.
public struct RetrievalSignificance: Sendable, Equatable {
  /// Null draws per configuration.
  public let nullSize: Int
  /// Seed of the null draws.
  public let seed: UInt64
  /// One entry per complex with at least two evaluated genes (table order).
  public let perComplex: GroupSignificanceTable
  /// One entry per evaluated gene whose complex has another evaluated gene (embedding order).
  public let perGene: GroupSignificanceTable

  /// The share of complexes retrieved at corrected p below the threshold.
  public var fractionComplexesRetrieved: Double? { perComplex.fractionSignificant }
  /// The share of genes retrieved at corrected p below the threshold.
  public var fractionGenesRetrieved: Double? { perGene.fractionSignificant }

  /// Whether the embedding is distinguishable from noise: at least one complex is retrieved at
  /// corrected p below the threshold. When no complex carries signal, Benjamini–Hochberg keeps
  /// the chance of any such call at or below the threshold, so this is a test of the global null
  /// at that level. `nil` when no complex has two evaluated genes.
  public var distinguishableFromNoise: Bool? {
    perComplex.groups.isEmpty ? nil : perComplex.significantCount > 0
  }

  /// The significance of the given metrics' per-gene APs.
  ///
  /// - Parameters:
  ///   - metrics: the CORUM metrics (genes, their complexes and APs).
  ///   - complexOrder: complex identifiers in report order (the table's).
  ///   - nullSize: null draws per configuration (copairs' `null_size`).
  ///   - threshold: significance level of the corrected p-values.
  ///   - seed: seed of the null draws.
  public static func compute(
    metrics: CorumMetrics, complexOrder: [String], nullSize: Int, threshold: Double = 0.05,
    seed: UInt64
  ) -> RetrievalSignificance {
    compute(
      averagePrecision: metrics.averagePrecision, genes: metrics.genes,
      complexOfGene: metrics.complexOfGene, complexOrder: complexOrder, nullSize: nullSize,
      threshold: threshold, seed: seed)
  }

  /// The significance of per-gene APs.
  ///
  /// - Parameters:
  ///   - averagePrecision: the APs and hit counts of the evaluated genes.
  ///   - genes: the evaluated genes, in the APs' order.
  ///   - complexOfGene: the complex identifier of each of them.
  ///   - complexOrder: complex identifiers in report order.
  ///   - nullSize: null draws per configuration.
  ///   - threshold: significance level of the corrected p-values.
  ///   - seed: seed of the null draws.
  public static func compute(
    averagePrecision ap: AveragePrecisionResult, genes: [String], complexOfGene: [String],
    complexOrder: [String], nullSize: Int, threshold: Double = 0.05, seed: UInt64
  ) -> RetrievalSignificance {
    let n = genes.count
    let configurations: [Significance.Configuration?] = ap.hitCounts.map {
      $0 > 0 ? Significance.Configuration(positives: $0, total: n - 1) : nil
    }
    let present = Set(complexOfGene)
    let names = complexOrder.filter { present.contains($0) }
    let position = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    let complexGroups = complexOfGene.map { position[$0] ?? 0 }
    let perComplex = Significance.groupSignificance(
      averagePrecisions: ap.perQuery, configurations: configurations, groups: complexGroups,
      names: names, nullSize: nullSize, threshold: threshold, seed: seed)
    let perGene = Significance.groupSignificance(
      averagePrecisions: ap.perQuery, configurations: configurations, groups: Array(0..<n),
      names: genes, nullSize: nullSize, threshold: threshold, seed: seed)
    return RetrievalSignificance(
      nullSize: nullSize, seed: seed, perComplex: perComplex, perGene: perGene)
  }
}
