/// Feature selection over all cells, as pycytominer's `feature_select(profiles, features,
/// operation=[…])` does with `samples="all"`: the operations run in the order given, each on the
/// features the previous ones kept, and the union of what they exclude is dropped.
///
/// - ``Operation/variance``: the frequency and uniqueness test, pycytominer's
///   `frequency_threshold(freq_cut=0.05, unique_cut=0.01)` (the test its `variance_threshold`
///   made before it became scikit-learn's variance threshold). A feature is dropped when the count
///   of its second most common value over the count of its most common value is below `freqCut`
///   (0 when it has one value), or when its number of distinct values over the number of cells is
///   below `uniqueCut`. Values are compared exactly, as `pandas.Series.value_counts` does.
/// - ``Operation/minVariance``: pycytominer's present `variance_threshold(min_variance=1e-6)`,
///   scikit-learn's `VarianceThreshold`: a feature whose population variance is not above
///   `minVariance` is dropped.
/// - ``Operation/correlation``: pycytominer's `correlation_threshold(threshold=0.9,
///   method="pearson")`. The Pearson correlation matrix of the features is computed; each feature
///   gets the sum of the absolute correlations of its column (itself included), and the features
///   are ranked by that sum, lowest first. Every pair whose correlation is above the threshold
///   (signed, as pycytominer compares it: strongly anti-correlated pairs stay) excludes the member
///   ranked later, i.e. the one more correlated with all the others. A constant feature has no
///   correlation (NaN in pandas): it adds nothing to the sums and forms no pair.
public struct FeatureSelection: Sendable, Equatable {
  /// One operation of `grape profile --feature-select`.
  public enum Operation: String, CaseIterable, Sendable {
    /// Frequency and uniqueness (`frequency_threshold`).
    case variance
    /// Population variance at most `minVariance` (`variance_threshold`).
    case minVariance = "min-variance"
    /// Pearson correlation above the threshold (`correlation_threshold`).
    case correlation
  }

  /// The operations, in the order they run.
  public var operations: [Operation]
  /// pycytominer's `freq_cut`.
  public var freqCut = 0.05
  /// pycytominer's `unique_cut`.
  public var uniqueCut = 0.01
  /// pycytominer's `min_variance`.
  public var minVariance = 1e-6
  /// pycytominer's `corr_threshold`.
  public var correlationThreshold = 0.9

  /// A selection running `operations` in order, with pycytominer's default thresholds.
  public init(operations: [Operation]) {
    self.operations = operations
  }

  /// The indices (into `profiles.features`, increasing) of the features kept.
  public func selected(_ profiles: CellProfiles) -> [Int] {
    var kept = Array(0..<profiles.dimension)
    for operation in operations {
      let excluded: Set<Int>
      switch operation {
      case .variance: excluded = frequencyExcluded(profiles, among: kept)
      case .minVariance: excluded = varianceExcluded(profiles, among: kept)
      case .correlation: excluded = correlationExcluded(profiles, among: kept)
      }
      kept.removeAll { excluded.contains($0) }
    }
    return kept
  }

  /// Keeps the selected features of `profiles`.
  ///
  /// - Throws: ``ProfilingError/noFeaturesLeft(step:)`` when every feature is excluded.
  /// - Returns: the names of the features dropped.
  @discardableResult
  public func apply(_ profiles: inout CellProfiles) throws -> [String] {
    guard !operations.isEmpty else { return [] }
    let kept = selected(profiles)
    guard !kept.isEmpty else {
      throw ProfilingError.noFeaturesLeft(step: "feature selection (\(operations.map(\.rawValue).joined(separator: ",")))")
    }
    let keptSet = Set(kept)
    let dropped = profiles.features.indices.filter { !keptSet.contains($0) }.map { profiles.features[$0] }
    profiles.keepColumns(kept)
    return dropped
  }

  private func column(_ p: CellProfiles, _ j: Int) -> [Double] {
    (0..<p.count).map { p.values[$0 * p.dimension + j] }
  }

  func frequencyExcluded(_ p: CellProfiles, among features: [Int]) -> Set<Int> {
    var out = Set<Int>()
    let n = Double(p.count)
    for j in features {
      var counts: [Double: Int] = [:]
      for v in column(p, j) { counts[v, default: 0] += 1 }
      let sorted = counts.values.sorted(by: >)
      let frequency = sorted.count < 2 ? 0 : Double(sorted[1]) / Double(sorted[0])
      let uniqueness = Double(counts.count) / n
      if frequency < freqCut || uniqueness < uniqueCut { out.insert(j) }
    }
    return out
  }

  func varianceExcluded(_ p: CellProfiles, among features: [Int]) -> Set<Int> {
    var out = Set<Int>()
    for j in features {
      let x = column(p, j)
      let mean = x.reduce(0, +) / Double(x.count)
      let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
      if !(variance > minVariance) { out.insert(j) }
    }
    return out
  }

  func correlationExcluded(_ p: CellProfiles, among features: [Int]) -> Set<Int> {
    let m = features.count
    guard m > 1 else { return [] }
    let n = Double(p.count)
    // Centred columns and their norms; a constant column has no correlation (NaN).
    var centred: [[Double]] = []
    var norms: [Double] = []
    for j in features {
      let x = column(p, j)
      let mean = x.reduce(0, +) / n
      let c = x.map { $0 - mean }
      centred.append(c)
      norms.append(c.reduce(0) { $0 + $1 * $1 }.squareRoot())
    }
    var corr = [Double](repeating: .nan, count: m * m)
    for a in 0..<m where norms[a] > 0 {
      for b in a..<m where norms[b] > 0 {
        var s = 0.0
        for i in 0..<p.count { s += centred[a][i] * centred[b][i] }
        // numpy.corrcoef clips to [-1, 1].
        let r = a == b ? 1 : max(-1, min(1, s / (norms[a] * norms[b])))
        corr[a * m + b] = r
        corr[b * m + a] = r
      }
    }
    var sums = [Double](repeating: 0, count: m)
    for a in 0..<m { for b in 0..<m where !corr[a * m + b].isNaN { sums[b] += abs(corr[a * m + b]) } }
    let order = (0..<m).sorted { sums[$0] < sums[$1] || (sums[$0] == sums[$1] && $0 < $1) }
    var rank = [Int](repeating: 0, count: m)
    for (r, a) in order.enumerated() { rank[a] = r }
    var out = Set<Int>()
    // Lower triangle: pair_a is the row (later feature), pair_b the column.
    for a in 1..<m {
      for b in 0..<a where corr[a * m + b] > correlationThreshold {
        out.insert(features[rank[a] > rank[b] ? a : b])
      }
    }
    return out
  }
}
