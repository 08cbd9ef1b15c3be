import Foundation

/// Agreement between a clustering and reference classes: NMI, ARI and purity, computed as
/// scikit-learn computes them (`normalized_mutual_info_score` with arithmetic normalisation,
/// `adjusted_rand_score`), including their special cases.
public enum ClusterAgreement {
  /// The contingency table of two labelings: `counts[c * clusters + k]` holds the number of items
  /// with class `c` and cluster `k`; classes and clusters are numbered in sorted label order.
  struct Contingency {
    let classes: Int
    let clusters: Int
    let counts: [Int]
    let n: Int

    init(truth: [Int], predicted: [Int]) {
      precondition(truth.count == predicted.count, "label arrays differ in length")
      let (ci, classes) = Contingency.dense(truth)
      let (ki, clusters) = Contingency.dense(predicted)
      var counts = [Int](repeating: 0, count: classes * clusters)
      for i in truth.indices { counts[ci[i] * clusters + ki[i]] += 1 }
      self.classes = classes
      self.clusters = clusters
      self.counts = counts
      self.n = truth.count
    }

    /// Labels renumbered 0..<m in sorted label order, and m.
    static func dense(_ labels: [Int]) -> ([Int], Int) {
      guard let lo = labels.min(), let hi = labels.max() else { return ([], 0) }
      if hi - lo <= 4 * labels.count + 64 {
        // Small range: a lookup table instead of hashing.
        var table = [Int](repeating: -1, count: hi - lo + 1)
        for l in labels { table[l - lo] = 0 }
        var next = 0
        for v in table.indices where table[v] == 0 {
          table[v] = next
          next += 1
        }
        return (labels.map { table[$0 - lo] }, next)
      }
      let ids = Array(Set(labels)).sorted()
      var map: [Int: Int] = [:]
      for (i, l) in ids.enumerated() { map[l] = i }
      return (labels.map { map[$0] ?? 0 }, ids.count)
    }

    var classTotals: [Int] {
      (0..<classes).map { c in (0..<clusters).reduce(0) { $0 + counts[c * clusters + $1] } }
    }
    var clusterTotals: [Int] {
      (0..<clusters).map { k in (0..<classes).reduce(0) { $0 + counts[$1 * clusters + k] } }
    }
  }

  /// Shannon entropy (natural log) of a labeling, as `sklearn.metrics.cluster.entropy`.
  static func entropy(_ totals: [Int]) -> Double {
    let nonzero = totals.filter { $0 > 0 }
    if nonzero.count <= 1 { return 0 }
    let sum = Double(nonzero.reduce(0, +))
    let logSum = log(sum)
    return -nonzero.reduce(0.0) { acc, p in
      let pd = Double(p)
      return acc + (pd / sum) * (log(pd) - logSum)
    }
  }

  /// Mutual information (natural log) from a contingency table, as `mutual_info_score`.
  static func mutualInformation(_ t: Contingency) -> Double {
    if t.classes == 1 || t.clusters == 1 { return 0 }
    let pi = t.classTotals
    let pj = t.clusterTotals
    let total = Double(t.n)
    let logTotal = log(total)
    let logPiSum = log(Double(pi.reduce(0, +)))
    let logPjSum = log(Double(pj.reduce(0, +)))
    var mi = 0.0
    for c in 0..<t.classes {
      for k in 0..<t.clusters {
        let v = t.counts[c * t.clusters + k]
        if v == 0 { continue }
        let nm = Double(v) / total
        let outer = Double(pi[c]) * Double(pj[k])
        let logOuter = -log(outer) + logPiSum + logPjSum
        var term = nm * (log(Double(v)) - logTotal) + nm * logOuter
        if abs(term) < Double.ulpOfOne { term = 0 }
        mi += term
      }
    }
    return max(mi, 0)
  }

  /// Normalized mutual information with arithmetic normalisation,
  /// `MI / ((H(truth) + H(predicted)) / 2)`, as scikit-learn's default.
  ///
  /// Special cases as scikit-learn: 1 when both labelings have a single label (or none); 0 when
  /// the mutual information is 0.
  public static func normalizedMutualInformation(truth: [Int], predicted: [Int]) -> Double {
    normalizedMutualInformation(Contingency(truth: truth, predicted: predicted))
  }

  static func normalizedMutualInformation(_ t: Contingency) -> Double {
    if (t.classes == 1 && t.clusters == 1) || (t.classes == 0 && t.clusters == 0) { return 1 }
    let mi = mutualInformation(t)
    if mi == 0 { return 0 }
    let hTrue = entropy(t.classTotals)
    let hPred = entropy(t.clusterTotals)
    let normalizer = max((hTrue + hPred) / 2, Double.ulpOfOne)
    return mi / normalizer
  }

  /// Adjusted Rand index from the pair-confusion matrix, as scikit-learn's
  /// `adjusted_rand_score`: `2(tp·tn − fn·fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn))`, and 1
  /// when there are no disagreeing pairs.
  public static func adjustedRandIndex(truth: [Int], predicted: [Int]) -> Double {
    adjustedRandIndex(Contingency(truth: truth, predicted: predicted))
  }

  static func adjustedRandIndex(_ t: Contingency) -> Double {
    let n = Double(t.n)
    let nc = t.classTotals.map(Double.init)
    let nk = t.clusterTotals.map(Double.init)
    var sumSquares = 0.0
    var rowDot = 0.0  // Σ_c Σ_k n_ck · n_k
    var colDot = 0.0  // Σ_c Σ_k n_ck · n_c
    for c in 0..<t.classes {
      for k in 0..<t.clusters {
        let v = Double(t.counts[c * t.clusters + k])
        sumSquares += v * v
        rowDot += v * nk[k]
        colDot += v * nc[c]
      }
    }
    let tp = sumSquares - n
    let fp = rowDot - sumSquares
    let fn = colDot - sumSquares
    let tn = n * n - fp - fn - sumSquares
    if fn == 0 && fp == 0 { return 1 }
    return 2 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
  }

  /// Purity: the fraction of items whose cluster's most frequent class is their own class,
  /// `Σ_k max_c n_ck / n`.
  public static func purity(truth: [Int], predicted: [Int]) -> Double {
    purity(Contingency(truth: truth, predicted: predicted))
  }

  static func purity(_ t: Contingency) -> Double {
    guard t.n > 0 else { return 0 }
    var total = 0
    for k in 0..<t.clusters {
      var best = 0
      for c in 0..<t.classes { best = max(best, t.counts[c * t.clusters + k]) }
      total += best
    }
    return Double(total) / Double(t.n)
  }

  /// NMI, ARI and purity from one contingency table.
  static func all(truth: [Int], predicted: [Int]) -> (nmi: Double, ari: Double, purity: Double) {
    let t = Contingency(truth: truth, predicted: predicted)
    return (normalizedMutualInformation(t), adjustedRandIndex(t), purity(t))
  }
}
