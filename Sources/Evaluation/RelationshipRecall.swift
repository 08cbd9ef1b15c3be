import GrapeSupport

/// Recall of known relationships (the EFAAR benchmark of Celik et al. 2024): the share of
/// within-complex gene pairs whose cosine similarity lies in the extreme tails of the distribution
/// of all pairwise cosine similarities.
///
/// The thresholds are the `q`-th and `(100 − q)`-th percentiles (numpy's linear interpolation) of
/// the cosine similarities of all pairs of evaluated genes; a known pair (two genes of one
/// complex) is recalled when its similarity is at or below the lower threshold or at or above the
/// upper one. For an embedding without signal the expected recall is `2q / 100` (0.10 at
/// `q = 5`). The one-sided share at or above the upper threshold (`recallTop`, expected
/// `q / 100`) is what complexes, whose members should look alike, are expected to raise.
///
/// With more than `maxPairs` gene pairs the percentiles come from a seeded uniform sample of
/// `maxPairs` pairs (EFAAR draws random pairs for its null as well); every known pair is scored.
public struct RelationshipRecall: Sendable, Equatable {
  /// The tail percentile `q` (5).
  public let thresholdPercentile: Double
  /// The lower threshold (the `q`-th percentile of all pairwise similarities).
  public let lower: Double
  /// The upper threshold (the `(100 − q)`-th percentile).
  public let upper: Double
  /// Pairs of evaluated genes behind the thresholds.
  public let pairsForThresholds: Int
  /// Whether those pairs were a sample of all pairs.
  public let sampled: Bool
  /// Known (within-complex) pairs scored.
  public let knownPairs: Int
  /// Share of known pairs in either tail (`nil` without known pairs).
  public let recall: Double?
  /// Share of known pairs at or above the upper threshold.
  public let recallTop: Double?
  /// Share of known pairs at or below the lower threshold.
  public let recallBottom: Double?

  /// The recall of a random embedding, `2q / 100`.
  public var expected: Double { 2 * thresholdPercentile / 100 }

  /// Computes the recall of the pairs of rows that share a label.
  ///
  /// - Parameters:
  ///   - values: row-major `[count, dimension]` embedding.
  ///   - count: rows (at least 2).
  ///   - dimension: columns.
  ///   - labels: complex of each row; equal labels make a known pair.
  ///   - percentile: the tail percentile `q`, in (0, 50).
  ///   - maxPairs: pairs above which the thresholds come from a sample.
  ///   - seed: seed of that sample.
  public static func compute(
    values: [Float], count n: Int, dimension d: Int, labels: [Int], percentile: Double = 5,
    maxPairs: Int = 5_000_000, seed: UInt64 = 42
  ) -> RelationshipRecall {
    precondition(values.count == n * d && labels.count == n && n >= 2)
    precondition(percentile > 0 && percentile < 50)
    var unit = [Double](repeating: 0, count: n * d)
    for i in 0..<n {
      var s = 0.0
      for j in 0..<d { s += Double(values[i * d + j]) * Double(values[i * d + j]) }
      let inv = s > 0 ? 1 / s.squareRoot() : 0
      for j in 0..<d { unit[i * d + j] = Double(values[i * d + j]) * inv }
    }
    func cosine(_ a: Int, _ b: Int) -> Double {
      var s = 0.0
      for j in 0..<d { s += unit[a * d + j] * unit[b * d + j] }
      return s
    }
    let total = n * (n - 1) / 2
    var all: [Double] = []
    var known: [Double] = []
    let sampled = total > maxPairs
    if sampled {
      var rng = RandomGenerator(seed: seed ^ 0xEFAA_12EC_A11D_0005)
      all.reserveCapacity(maxPairs)
      while all.count < maxPairs {
        let a = rng.int(below: n)
        let b = rng.int(below: n - 1)
        all.append(cosine(a, b < a ? b : b + 1))
      }
      for a in 0..<n {
        for b in (a + 1)..<n where labels[a] == labels[b] { known.append(cosine(a, b)) }
      }
    } else {
      all.reserveCapacity(total)
      for a in 0..<n {
        for b in (a + 1)..<n {
          let c = cosine(a, b)
          all.append(c)
          if labels[a] == labels[b] { known.append(c) }
        }
      }
    }
    all.sort()
    let lower = Self.percentile(sorted: all, percentile)
    let upper = Self.percentile(sorted: all, 100 - percentile)
    let top = known.filter { $0 >= upper }.count
    let bottom = known.filter { $0 <= lower }.count
    let both = known.filter { $0 >= upper || $0 <= lower }.count
    let k = Double(known.count)
    return RelationshipRecall(
      thresholdPercentile: percentile, lower: lower, upper: upper, pairsForThresholds: all.count,
      sampled: sampled, knownPairs: known.count,
      recall: known.isEmpty ? nil : Double(both) / k,
      recallTop: known.isEmpty ? nil : Double(top) / k,
      recallBottom: known.isEmpty ? nil : Double(bottom) / k)
  }

  /// numpy's `percentile` with linear interpolation of sorted values.
  static func percentile(sorted a: [Double], _ q: Double) -> Double {
    guard let first = a.first else { return .nan }
    let position = q / 100 * Double(a.count - 1)
    let i = Int(position.rounded(.down))
    guard i + 1 < a.count else { return a.last ?? first }
    let t = position - Double(i)
    return a[i] + (a[i + 1] - a[i]) * t
  }
}
