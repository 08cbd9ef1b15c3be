import GrapeSupport

/// The mAP of one group of queries (a complex, a gene) with its permutation p-value, as copairs'
/// `mean_average_precision` reports it.
public struct GroupSignificance: Sendable, Equatable {
  /// The group's name (a complex identifier, a gene).
  public let name: String
  /// Queries of the group with at least one positive (those that enter its mAP).
  public let queries: Int
  /// Mean AP over those queries.
  public let map: Double
  /// Permutation p-value: `(1 + #{null draws whose mean AP exceeds map}) / (1 + nullSize)`.
  public let p: Double
  /// Benjamini–Hochberg corrected p-value over the groups of the same kind.
  public let pCorrected: Double

  /// Creates a group score.
  public init(name: String, queries: Int, map: Double, p: Double, pCorrected: Double) {
    self.name = name
    self.queries = queries
    self.map = map
    self.p = p
    self.pCorrected = pCorrected
  }
}

/// Groups of one kind with their p-values, and the share below the threshold after correction.
public struct GroupSignificanceTable: Sendable, Equatable {
  /// One entry per group that has at least one query with a positive, in input order.
  public let groups: [GroupSignificance]
  /// Corrected p-values below this count as significant (copairs' `threshold`, 0.05).
  public let threshold: Double

  /// Creates a table.
  public init(groups: [GroupSignificance], threshold: Double) {
    self.groups = groups
    self.threshold = threshold
  }

  /// Groups whose corrected p-value lies below the threshold.
  public var significantCount: Int { groups.filter { $0.pCorrected < threshold }.count }

  /// The share of groups whose corrected p-value lies below the threshold (`nil` without groups).
  public var fractionSignificant: Double? {
    groups.isEmpty ? nil : Double(significantCount) / Double(groups.count)
  }
}

/// copairs' significance test of mean average precision (Kalinin et al. 2025, copairs
/// `copairs.map.mean_average_precision(ap_scores, sameby, null_size, threshold, seed)`).
///
/// Each query has a configuration: its number of positives `m` and the length `T` of its ranked
/// list (positives plus negatives). For every configuration, `nullSize` random rankings are drawn:
/// the `m` positives take `m` of the `T` ranks uniformly at random, and the AP of that ranking,
/// `(1/m) Σ_i i / r_i` over the positives' ranks `r_1 < … < r_m`, is one null draw. A group's
/// null draw `j` is the mean, over the group's queries, of draw `j` of each query's configuration,
/// so queries of the group that share a configuration share their draws, as in copairs. The
/// p-value is `(1 + #{j : null_j > mAP}) / (1 + nullSize)`; a null draw equal to the mAP (within
/// 1e-12) does not count. Benjamini–Hochberg then corrects the p-values of all groups of a kind
/// (statsmodels' `fdr_bh`).
///
/// What matches copairs exactly: the per-group mAP, the configurations, the grouping of draws, the
/// p-value formula and the correction. What does not: the random stream (copairs draws with
/// numpy's PCG64 seeded per configuration); p-values therefore agree within Monte-Carlo error,
/// about `sqrt(2 p (1 − p) / nullSize)`. Here each configuration's draws come from a generator
/// seeded by `seed`, `m` and `T` alone, so a configuration's null does not depend on which other
/// configurations occur.
public enum Significance {
  /// The number of positives and the ranked-list length of one query.
  public struct Configuration: Hashable, Sendable {
    /// Positives in the query's ranked list.
    public let positives: Int
    /// Length of the ranked list (positives and negatives).
    public let total: Int

    /// Creates a configuration; `1 ≤ positives ≤ total`.
    public init(positives: Int, total: Int) {
      precondition(positives >= 1 && total >= positives, "need 1 ≤ positives ≤ total")
      self.positives = positives
      self.total = total
    }
  }

  /// `draws` APs of random rankings with `positives` hits among `total` items.
  ///
  /// - Parameters:
  ///   - configuration: positives and list length.
  ///   - draws: number of random rankings.
  ///   - seed: the base seed; the configuration is mixed into it.
  /// - Returns: one AP per draw.
  public static func nullAveragePrecisions(
    _ configuration: Configuration, draws: Int, seed: UInt64
  ) -> [Double] {
    let m = configuration.positives
    let t = configuration.total
    var rng = RandomGenerator(
      seed: seed ^ (UInt64(m) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(t) &* 0xC2B2_AE3D_27D4_EB4F))
    var marked = [Bool](repeating: false, count: t)
    var chosen = [Int](repeating: 0, count: m)
    var out = [Double](repeating: 0, count: draws)
    for k in 0..<draws {
      // Floyd's algorithm: m distinct ranks of 0..<t, each m-subset equally likely.
      var c = 0
      for j in (t - m)..<t {
        let r = rng.int(below: j + 1)
        let pick = marked[r] ? j : r
        marked[pick] = true
        chosen[c] = pick
        c += 1
      }
      chosen.sort()
      var total = 0.0
      for (i, r) in chosen.enumerated() {
        total += Double(i + 1) / Double(r + 1)
        marked[r] = false
      }
      out[k] = total / Double(m)
    }
    return out
  }

  /// mAP, p-value and corrected p-value of each group of queries.
  ///
  /// - Parameters:
  ///   - averagePrecisions: AP of each query (`nil` for a query without positives; left out).
  ///   - configurations: each query's configuration (ignored where the AP is `nil`).
  ///   - groups: each query's group, an index into `names`.
  ///   - names: group names; groups without a scored query are left out of the table.
  ///   - nullSize: null draws per configuration (copairs' `null_size`).
  ///   - threshold: significance level of the corrected p-values.
  ///   - seed: seed of the null draws.
  /// - Returns: the table, groups in `names` order.
  public static func groupSignificance(
    averagePrecisions: [Double?], configurations: [Configuration?], groups: [Int],
    names: [String], nullSize: Int, threshold: Double = 0.05, seed: UInt64
  ) -> GroupSignificanceTable {
    precondition(averagePrecisions.count == groups.count && configurations.count == groups.count)
    precondition(nullSize >= 1, "nullSize must be at least 1")
    var members = [[Int]](repeating: [], count: names.count)
    for (q, g) in groups.enumerated() where averagePrecisions[q] != nil && configurations[q] != nil
    {
      members[g].append(q)
    }
    var nulls: [Configuration: [Double]] = [:]
    for q in members.joined() {
      guard let c = configurations[q], nulls[c] == nil else { continue }
      nulls[c] = nullAveragePrecisions(c, draws: nullSize, seed: seed)
    }
    var raw: [(name: String, queries: Int, map: Double, p: Double)] = []
    var mix = [Double](repeating: 0, count: nullSize)
    for (g, list) in members.enumerated() where !list.isEmpty {
      let map = list.reduce(0.0) { $0 + (averagePrecisions[$1] ?? 0) } / Double(list.count)
      var weights: [Configuration: Int] = [:]
      for q in list { if let c = configurations[q] { weights[c, default: 0] += 1 } }
      for j in 0..<nullSize { mix[j] = 0 }
      for (c, w) in weights.sorted(by: {
        ($0.key.positives, $0.key.total) < ($1.key.positives, $1.key.total)
      }) {
        guard let draws = nulls[c] else { continue }
        let share = Double(w) / Double(list.count)
        for j in 0..<nullSize { mix[j] += share * draws[j] }
      }
      var above = 0
      for j in 0..<nullSize where mix[j] > map + 1e-12 { above += 1 }
      raw.append((names[g], list.count, map, Double(above + 1) / Double(nullSize + 1)))
    }
    let corrected = benjaminiHochberg(raw.map(\.p))
    return GroupSignificanceTable(
      groups: zip(raw, corrected).map {
        GroupSignificance(name: $0.name, queries: $0.queries, map: $0.map, p: $0.p, pCorrected: $1)
      }, threshold: threshold)
  }

  /// Benjamini–Hochberg adjusted p-values (statsmodels' `multipletests(method="fdr_bh")`):
  /// with the p-values sorted ascending, `p̃_(i) = min_{k ≥ i} min(1, n p_(k) / k)`; returned in
  /// input order.
  public static func benjaminiHochberg(_ p: [Double]) -> [Double] {
    let n = p.count
    guard n > 0 else { return [] }
    let order = p.indices.sorted { (p[$0], $0) < (p[$1], $1) }
    var out = [Double](repeating: 0, count: n)
    var running = 1.0
    for rank in stride(from: n, through: 1, by: -1) {
      let i = order[rank - 1]
      running = min(running, p[i] * Double(n) / Double(rank))
      out[i] = min(1, running)
    }
    return out
  }
}
