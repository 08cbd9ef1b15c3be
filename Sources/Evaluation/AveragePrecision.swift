/// Retrieval of complex partners by cosine similarity: average precision per gene and their mean.
///
/// Each gene in turn is the query; every other gene is ranked by cosine similarity to it, highest
/// first; a gene of the query's complex is a hit; AP is the mean of the precision at each hit's
/// rank; mAP is the mean AP over the queries that have at least one hit (GRAPE §3.7, the contract
/// of `grape evaluate`).
///
/// Ties: genes with exactly equal similarity are ranked by row order (the lower row first), a
/// stable order that makes AP a pure function of the input. With continuous embeddings exact ties
/// do not occur; they arise only for duplicated rows or rows of zeros. A row of zeros has no
/// direction: its cosine similarity to every gene is taken as 0 (as scikit-learn's
/// `cosine_similarity` does), and the evaluation reports it in its warnings.
///
/// Similarities are computed in double precision.
public struct AveragePrecisionResult: Sendable, Equatable {
  /// AP of each query row, `nil` when the query has no hit (its complex has no other gene).
  public let perQuery: [Double?]
  /// Number of hits (other genes of the same complex) of each query.
  public let hitCounts: [Int]
  /// Mean AP over queries with at least one hit; `nil` when no query has a hit.
  public let meanAveragePrecision: Double?
  /// The expected mAP of a uniformly random ranking for the same complexes (exact, closed form).
  public let chanceMeanAveragePrecision: Double?
}

/// Average precision of cosine-similarity rankings.
public enum AveragePrecision {
  /// AP of every row against all other rows.
  ///
  /// - Parameters:
  ///   - values: row-major `[count, dimension]` embedding.
  ///   - count: number of rows.
  ///   - dimension: number of columns.
  ///   - labels: complex label of each row (any integers; equal labels are hits).
  /// - Returns: per-query AP, hit counts, mAP and the chance mAP.
  public static func compute(values: [Float], count: Int, dimension: Int, labels: [Int])
    -> AveragePrecisionResult
  {
    precondition(values.count == count * dimension && labels.count == count)
    let n = count
    let d = dimension
    // Unit rows in double precision (zero rows stay zero).
    var unit = [Double](repeating: 0, count: n * d)
    values.withUnsafeBufferPointer { v in
      for i in 0..<n {
        var s = 0.0
        for j in 0..<d { s += Double(v[i * d + j]) * Double(v[i * d + j]) }
        let inv = s > 0 ? 1 / s.squareRoot() : 0
        for j in 0..<d { unit[i * d + j] = Double(v[i * d + j]) * inv }
      }
    }
    var hitsOf = [[Int]](repeating: [], count: n)
    var members: [Int: [Int]] = [:]
    for i in 0..<n { members[labels[i], default: []].append(i) }
    for i in 0..<n { hitsOf[i] = (members[labels[i]] ?? []).filter { $0 != i } }

    var ap = [Double?](repeating: nil, count: n)
    let block = 256
    var sims = [Double](repeating: 0, count: min(block, n) * n)
    var start = 0
    while start < n {
      let rows = min(block, n - start)
      unit.withUnsafeBufferPointer { u in
        sims.withUnsafeMutableBufferPointer { s in
          guard let pu = u.baseAddress, let ps = s.baseAddress else { return }
          LinearAlgebra.dgemm(
            transA: false, transB: true, m: rows, n: n, k: d, alpha: 1, pu + start * d, pu,
            beta: 0, ps)
        }
      }
      let blockAP: [Double?] = sims.withUnsafeBufferPointer { s in
        ParallelMap.map(rows, costPerItem: n * 4) { r in
          let i = start + r
          return averagePrecision(
            query: i, similarities: UnsafeBufferPointer(rebasing: s[(r * n)..<((r + 1) * n)]),
            hits: hitsOf[i])
        }
      }
      for r in 0..<rows { ap[start + r] = blockAP[r] }
      start += rows
    }
    let scored = ap.compactMap { $0 }
    let mAP = scored.isEmpty ? nil : scored.reduce(0, +) / Double(scored.count)
    var chance: [Double] = []
    for i in 0..<n where !hitsOf[i].isEmpty {
      chance.append(expectedRandomAveragePrecision(hits: hitsOf[i].count, candidates: n - 1))
    }
    let chanceMAP = chance.isEmpty ? nil : chance.reduce(0, +) / Double(chance.count)
    return AveragePrecisionResult(
      perQuery: ap, hitCounts: hitsOf.map(\.count), meanAveragePrecision: mAP,
      chanceMeanAveragePrecision: chanceMAP)
  }

  /// AP of one query: `similarities[j]` is the similarity of row `j` to the query (the query's own
  /// entry is ignored), `hits` the rows that count as hits. Ranking is by similarity, highest
  /// first, ties broken by lower row index. `nil` when there are no hits.
  ///
  /// Runs in O(n log m) for n rows and m hits: hits are sorted, and every other row is placed
  /// among them by binary search.
  static func averagePrecision(query: Int, similarities s: UnsafeBufferPointer<Double>, hits: [Int])
    -> Double?
  {
    let m = hits.count
    guard m > 0 else { return nil }
    // `a` ranks before `b`.
    @inline(__always) func before(_ a: Int, _ b: Int) -> Bool {
      s[a] > s[b] || (s[a] == s[b] && a < b)
    }
    let sortedHits = hits.sorted(by: before)
    var isHit = [Bool](repeating: false, count: s.count)
    for h in hits { isHit[h] = true }
    // countAt[p] = number of non-hits that rank after exactly p hits (before hit p).
    var countAt = [Int](repeating: 0, count: m + 1)
    for j in 0..<s.count where j != query && !isHit[j] {
      var lo = 0
      var hi = m
      while lo < hi {
        let mid = (lo + hi) >> 1
        if before(sortedHits[mid], j) { lo = mid + 1 } else { hi = mid }
      }
      countAt[lo] += 1
    }
    var nonHitsBefore = 0
    var total = 0.0
    for p in 0..<m {
      nonHitsBefore += countAt[p]
      let rank = p + 1 + nonHitsBefore
      total += Double(p + 1) / Double(rank)
    }
    return total / Double(m)
  }

  /// AP of a ranked relevance list (`relevant[r]` for rank `r + 1`); `nil` without relevant items.
  public static func averagePrecision(rankedRelevance relevant: [Bool]) -> Double? {
    var hits = 0
    var total = 0.0
    for (r, rel) in relevant.enumerated() where rel {
      hits += 1
      total += Double(hits) / Double(r + 1)
    }
    return hits == 0 ? nil : total / Double(hits)
  }

  /// Expected AP of a uniformly random ranking of `candidates` items of which `hits` are hits:
  /// `(1/N) · (H_N + (m − 1)/(N − 1) · (N − H_N))` with `H_N` the N-th harmonic number.
  public static func expectedRandomAveragePrecision(hits m: Int, candidates n: Int) -> Double {
    precondition(m >= 1 && n >= m)
    if n == 1 { return 1 }
    var harmonic = 0.0
    for r in 1...n { harmonic += 1 / Double(r) }
    let nn = Double(n)
    return (harmonic + Double(m - 1) / (nn - 1) * (nn - harmonic)) / nn
  }
}
