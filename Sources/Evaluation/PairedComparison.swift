import GrapeSupport

/// Whether one embedding's mAP differs from another's by more than chance: a paired sign-flip
/// permutation test over the query genes both rank.
///
/// Each shared query gene g gives the difference d_g = AP_a(g) − AP_b(g). Under the null
/// hypothesis that neither embedding retrieves complex-mates better, every d_g is as likely
/// positive as negative; the test flips the sign of each d_g at random `draws` times and counts
/// how often the mean of the flipped differences is at least as far from zero as the observed
/// mean (two-sided, with the observed arrangement counted: p = (1 + hits) / (1 + draws)). The
/// mean of d_g equals the difference in mAP when both embeddings rank the same genes.
public struct PairedMAPComparison: Sendable, Equatable {
  /// Query genes with an AP in both embeddings.
  public let genes: Int
  /// Mean over those genes of AP(a) − AP(b).
  public let difference: Double
  /// Two-sided permutation p-value.
  public let pValue: Double
  /// Sign flips drawn.
  public let draws: Int

  /// Compares `a` against `b` over their shared query genes; nil when fewer than two are shared.
  ///
  /// - Parameters:
  ///   - a: the embedding under test.
  ///   - b: the baseline.
  ///   - draws: sign-flip draws (10,000 by default).
  ///   - seed: seed of the draws.
  public static func compare(_ a: CorumMetrics, _ b: CorumMetrics, draws: Int = 10_000, seed: UInt64 = 0)
    -> PairedMAPComparison?
  {
    var apOfB: [String: Double] = [:]
    for (gene, ap) in zip(b.genes, b.averagePrecision.perQuery) { if let ap { apOfB[gene] = ap } }
    var differences: [Double] = []
    for (gene, ap) in zip(a.genes, a.averagePrecision.perQuery) {
      if let ap, let other = apOfB[gene] { differences.append(ap - other) }
    }
    return compare(differences: differences, draws: draws, seed: seed)
  }

  /// The test on given paired differences; nil when there are fewer than two.
  public static func compare(differences: [Double], draws: Int = 10_000, seed: UInt64 = 0) -> PairedMAPComparison? {
    let n = differences.count
    guard n >= 2, draws > 0 else { return nil }
    let observed = differences.reduce(0, +) / Double(n)
    // A small tolerance keeps ties (flips that reproduce the observed mean exactly) counted.
    let bar = abs(observed) * (1 - 1e-12)
    var rng = RandomGenerator(seed: seed)
    var hits = 0
    for _ in 0..<draws {
      var sum = 0.0
      var bits: UInt64 = 0
      for (i, d) in differences.enumerated() {
        if i % 64 == 0 { bits = rng.next() }
        sum += (bits & 1) == 0 ? d : -d
        bits >>= 1
      }
      if abs(sum / Double(n)) >= bar { hits += 1 }
    }
    return PairedMAPComparison(
      genes: n, difference: observed, pValue: Double(1 + hits) / Double(1 + draws), draws: draws)
  }
}
