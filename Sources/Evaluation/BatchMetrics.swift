import OPSData
import GrapeSupport

/// Settings of the batch-effect metrics.
public struct BatchMetricOptions: Sendable, Equatable {
  /// Neighbours of the leave-one-out kNN batch classifier.
  public var classifierNeighbors: Int
  /// Neighbours per cell in the kNN graph of the graph connectivity (14 others: scanpy's default
  /// `n_neighbors = 15` counts the cell itself).
  public var graphNeighbors: Int
  /// Cells above which a uniform subsample of this size is used; `nil` never subsamples.
  public var maxCells: Int?
  /// Seed of the subsample.
  public var seed: UInt64

  /// Defaults: 15 classifier neighbours, 14 graph neighbours, subsample above 20,000 cells.
  public init(
    classifierNeighbors: Int = 15, graphNeighbors: Int = 14, maxCells: Int? = 20_000,
    seed: UInt64 = 42
  ) {
    self.classifierNeighbors = classifierNeighbors
    self.graphNeighbors = graphNeighbors
    self.maxCells = maxCells
    self.seed = seed
  }
}

/// Batch-effect metrics of per-cell codes (scIB definitions; higher ASW and connectivity and a
/// kNN accuracy near chance mean less batch signal).
public struct BatchMetrics: Sendable, Equatable {
  /// scIB batch ASW: per gene label, the mean over its cells of `1 − |silhouette|` computed on
  /// batch labels within that gene; then the mean over labels. `nil` when no label has cells from
  /// at least 2 batches (and fewer batches than cells).
  public let asw: Double?
  /// Gene labels that entered the ASW.
  public let aswLabels: Int
  /// Leave-one-out kNN batch-classifier accuracy (majority vote of the nearest other cells; ties
  /// go to the batch listed first); `nil` with fewer than 2 cells.
  public let knnAccuracy: Double?
  /// Chance level of that classifier: the frequency of the most common batch (what always
  /// predicting that batch scores).
  public let chance: Double
  /// `1 / number of batches present`, the chance level for balanced batches.
  public let chanceUniform: Double
  /// scIB graph connectivity: per gene label, the fraction of its cells in the largest connected
  /// component of the kNN graph restricted to that label; mean over labels; `nil` with fewer
  /// than 2 cells.
  public let graphConnectivity: Double?
  /// Classifier neighbours used.
  public let classifierNeighbors: Int
  /// Graph neighbours used.
  public let graphNeighbors: Int
  /// Cells in the input.
  public let cellsTotal: Int
  /// Cells measured (after subsampling).
  public let cellsUsed: Int
  /// Whether a subsample was measured.
  public var subsampled: Bool { cellsUsed < cellsTotal }
  /// Seed of the subsample.
  public let seed: UInt64
  /// Batches present among the measured cells.
  public let batches: Int
}

/// Computes `BatchMetrics`.
public enum BatchEffect {
  /// Measures batch effects of per-cell codes with gene labels as the biological labels.
  public static func measure(cells: LabeledCodes, options: BatchMetricOptions = BatchMetricOptions())
    -> BatchMetrics
  {
    let n = cells.count
    let d = cells.dimension
    var rows = Array(0..<n)
    if let limit = options.maxCells, limit > 0, n > limit {
      rows = subsample(n, limit, seed: options.seed)
    }
    let values: [Float]
    if rows.count == n {
      values = cells.values
    } else {
      var v = [Float]()
      v.reserveCapacity(rows.count * d)
      for i in rows { v.append(contentsOf: cells.values[(i * d)..<((i + 1) * d)]) }
      values = v
    }
    let genes = rows.map { cells.geneIndex[$0] }
    let batches = rows.map { cells.batchIndex[$0] }
    let m = rows.count
    let (asw, used) = batchASW(
      values: values, count: m, dimension: d, labels: genes, batches: batches)
    let k = max(options.classifierNeighbors, options.graphNeighbors)
    let lists = NearestNeighbors.compute(values: values, count: m, dimension: d, k: k)
    let accuracy = knnAccuracy(
      neighbors: lists, batches: batches, k: options.classifierNeighbors)
    let connectivity = graphConnectivity(
      neighbors: lists, labels: genes, k: options.graphNeighbors)
    var counts: [Int: Int] = [:]
    for b in batches { counts[b, default: 0] += 1 }
    let majority = counts.values.max() ?? 0
    return BatchMetrics(
      asw: asw, aswLabels: used, knnAccuracy: accuracy,
      chance: m > 0 ? Double(majority) / Double(m) : 0,
      chanceUniform: counts.isEmpty ? 0 : 1 / Double(counts.count),
      graphConnectivity: connectivity,
      classifierNeighbors: min(options.classifierNeighbors, lists.k),
      graphNeighbors: min(options.graphNeighbors, lists.k), cellsTotal: n, cellsUsed: m,
      seed: options.seed, batches: counts.count)
  }

  /// `limit` distinct indices of `0..<n` drawn uniformly (partial Fisher–Yates), sorted.
  static func subsample(_ n: Int, _ limit: Int, seed: UInt64) -> [Int] {
    var rng = RandomGenerator(seed: seed ^ 0x5EED_CE11_5AB5_A3B1)
    var pool = Array(0..<n)
    for i in 0..<limit {
      let j = i + rng.int(below: n - i)
      pool.swapAt(i, j)
    }
    return Array(pool[0..<limit]).sorted()
  }

  /// scIB's `silhouette_batch` (scaled): for each label with at least 2 batches and fewer batches
  /// than cells, the mean of `1 − |s|` over its cells, where `s` is the silhouette of the cells'
  /// batch labels within that label; then the mean over those labels. Returns the ASW (or `nil`)
  /// and the number of labels used.
  public static func batchASW(
    values: [Float], count n: Int, dimension d: Int, labels: [Int], batches: [Int]
  ) -> (asw: Double?, labels: Int) {
    var members: [Int: [Int]] = [:]
    for i in 0..<n { members[labels[i], default: []].append(i) }
    var perLabel: [Double] = []
    for label in members.keys.sorted() {
      guard let idx = members[label] else { continue }
      let sub = idx.map { batches[$0] }
      let distinct = Set(sub).count
      if distinct == 1 || distinct == idx.count { continue }
      var v = [Float]()
      v.reserveCapacity(idx.count * d)
      for i in idx { v.append(contentsOf: values[(i * d)..<((i + 1) * d)]) }
      guard let s = Silhouette.samples(values: v, count: idx.count, dimension: d, labels: sub)
      else {
        continue
      }
      perLabel.append(s.reduce(0) { $0 + (1 - abs($1)) } / Double(s.count))
    }
    if perLabel.isEmpty { return (nil, 0) }
    return (perLabel.reduce(0, +) / Double(perLabel.count), perLabel.count)
  }

  /// Leave-one-out kNN classification accuracy of `batches` from the first `k` neighbours of each
  /// point (majority vote, ties to the smallest batch index, as scikit-learn's
  /// `KNeighborsClassifier` with uniform weights); `nil` without neighbours.
  public static func knnAccuracy(neighbors: NeighborLists, batches: [Int], k: Int) -> Double? {
    let n = neighbors.count
    let kk = min(k, neighbors.k)
    guard n > 0, kk > 0 else { return nil }
    let batchCount = (batches.max() ?? 0) + 1
    var correct = 0
    var votes = [Int](repeating: 0, count: batchCount)
    for i in 0..<n {
      for b in 0..<batchCount { votes[b] = 0 }
      for j in 0..<kk { votes[batches[Int(neighbors.indices[i * neighbors.k + j])]] += 1 }
      var best = 0
      for b in 1..<max(batchCount, 1) where votes[b] > votes[best] { best = b }
      if best == batches[i] { correct += 1 }
    }
    return Double(correct) / Double(n)
  }

  /// scIB's graph connectivity on the symmetrised graph that links every point to its first `k`
  /// neighbours: for each label, the largest connected component of the subgraph induced by the
  /// label's points, as a fraction of those points; the mean over labels; `nil` without
  /// neighbours.
  public static func graphConnectivity(neighbors: NeighborLists, labels: [Int], k: Int) -> Double? {
    let n = neighbors.count
    let kk = min(k, neighbors.k)
    guard n > 0, kk > 0 else { return nil }
    var parent = Array(0..<n)
    func find(_ x: Int) -> Int {
      var r = x
      while parent[r] != r { r = parent[r] }
      var y = x
      while parent[y] != r {
        let next = parent[y]
        parent[y] = r
        y = next
      }
      return r
    }
    for i in 0..<n {
      for j in 0..<kk {
        let o = Int(neighbors.indices[i * neighbors.k + j])
        if labels[o] != labels[i] { continue }
        let a = find(i)
        let b = find(o)
        if a != b { parent[max(a, b)] = min(a, b) }
      }
    }
    var sizes: [Int: [Int: Int]] = [:]
    var totals: [Int: Int] = [:]
    for i in 0..<n {
      sizes[labels[i], default: [:]][find(i), default: 0] += 1
      totals[labels[i], default: 0] += 1
    }
    var scores: [Double] = []
    for label in totals.keys.sorted() {
      let largest = sizes[label]?.values.max() ?? 0
      scores.append(Double(largest) / Double(totals[label] ?? 1))
    }
    return scores.reduce(0, +) / Double(scores.count)
  }
}
