import Foundation
import GrapeSupport

/// Lloyd's k-means from greedy k-means++ seeding, following scikit-learn's `KMeans` (algorithm
/// `"lloyd"`, `n_init = 1`) step by step.
///
/// - Seeding (`_kmeans_plusplus`): the first centre is a uniformly chosen point; each further
///   centre draws `2 + ⌊ln k⌋` candidates with probability proportional to the squared distance to
///   the nearest centre so far (inverse-CDF search on the cumulative sum, `searchsorted` left) and
///   keeps the candidate that lowers the potential (inertia) most, the first on ties.
/// - Lloyd iterations: assign every point to its nearest centre (the lowest index on ties),
///   recompute centres as means; an empty cluster takes the point farthest from its centre (the
///   farthest points in decreasing distance, lower index first on ties), and a cluster left
///   without points sits at the centre of the largest cluster, as scikit-learn does.
/// - Stopping: at most `maxIterations` (300) iterations; stop when the labels repeat (strict
///   convergence) or when the total squared centre shift is at most
///   `tolerance · mean(var(X, axis=0))` (scikit-learn's `tol = 1e-4` semantics); without strict
///   convergence the labels are recomputed once against the final centres.
///
/// Random draws come from the `RandomGenerator` passed in, so a run is fixed by its generator's
/// state. The result is the same as scikit-learn's up to floating-point rounding and the random
/// stream (which is this toolkit's own).
public struct KMeans: Sendable {
  /// Number of clusters k.
  public var clusters: Int
  /// Maximum number of Lloyd iterations (scikit-learn's `max_iter`).
  public var maxIterations: Int
  /// Relative tolerance on the squared centre shift (scikit-learn's `tol`).
  public var tolerance: Double
  /// Candidates per centre; `nil` means `2 + ⌊ln k⌋`.
  public var localTrials: Int?

  /// A k-means configuration with scikit-learn's defaults.
  public init(
    clusters: Int, maxIterations: Int = 300, tolerance: Double = 1e-4, localTrials: Int? = nil
  ) {
    self.clusters = clusters
    self.maxIterations = maxIterations
    self.tolerance = tolerance
    self.localTrials = localTrials
  }

  /// The number of seeding candidates per centre, `2 + ⌊ln k⌋` unless set.
  public var trialsPerCentre: Int {
    localTrials ?? (2 + Int(log(Double(max(clusters, 1)))))
  }

  /// Greedy k-means++ seeding: the indices of the chosen points, in the order chosen.
  public func seeds(_ data: KMeansData, rng: inout RandomGenerator) -> [Int] {
    let n = data.count
    let k = clusters
    precondition(k >= 1 && k <= n, "k-means++: need 1 ≤ k ≤ n (k = \(k), n = \(n))")
    var chosen = [rng.int(below: n)]
    var closest = [Double](repeating: 0, count: n)
    data.squaredDistances(from: chosen[0], into: &closest)
    var potential = closest.reduce(0, +)
    let trials = trialsPerCentre
    var cumulative = [Double](repeating: 0, count: n)
    // Trial t's candidate distances (min with the current closest) live in row t.
    var trialDistances = [Double](repeating: 0, count: trials * n)
    var candidates = [Int](repeating: 0, count: trials)
    for _ in 1..<max(k, 1) {
      var running = 0.0
      for i in 0..<n {
        running += closest[i]
        cumulative[i] = running
      }
      for t in 0..<trials {
        let target = rng.uniform() * potential
        // searchsorted(side: left): the first index whose cumulative sum reaches the target.
        var lo = 0
        var hi = n
        while lo < hi {
          let mid = (lo + hi) >> 1
          if cumulative[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        candidates[t] = min(lo, n - 1)
      }
      var bestTrial = 0
      var bestPotential = Double.infinity
      closest.withUnsafeBufferPointer { c in
        trialDistances.withUnsafeMutableBufferPointer { td in
          for t in 0..<trials {
            let pot = data.minSquaredDistances(
              from: candidates[t], closest: c,
              into: UnsafeMutableBufferPointer(rebasing: td[(t * n)..<((t + 1) * n)]))
            if pot < bestPotential {
              bestPotential = pot
              bestTrial = t
            }
          }
        }
      }
      potential = bestPotential
      for i in 0..<n { closest[i] = trialDistances[bestTrial * n + i] }
      chosen.append(candidates[bestTrial])
    }
    return chosen
  }

  /// Runs seeding and Lloyd iterations once.
  ///
  /// - Parameters:
  ///   - data: prepared data (`KMeansData`); k must not exceed its number of points.
  ///   - rng: the generator that drives the seeding.
  ///   - computeCenters: whether to fill `KMeansResult.centers` (costs n·d).
  public func fit(_ data: KMeansData, rng: inout RandomGenerator, computeCenters: Bool = true)
    -> KMeansResult
  {
    let seedIndices = seeds(data, rng: &rng)
    return lloyd(data, seeds: seedIndices, computeCenters: computeCenters)
  }

  /// Runs Lloyd iterations from the given seed points (incremental Gram updates on the Gram
  /// path, explicit centres on the feature path).
  public func lloyd(_ data: KMeansData, seeds: [Int], computeCenters: Bool = true) -> KMeansResult {
    data.usesGram
      ? lloydGram(data, seeds: seeds, computeCenters: computeCenters)
      : lloydReference(data, seeds: seeds, computeCenters: computeCenters)
  }

  /// Lloyd iterations that recompute every centre from its members at each step (the reference
  /// for `lloydGram`, and the feature-path implementation).
  func lloydReference(_ data: KMeansData, seeds: [Int], computeCenters: Bool = true) -> KMeansResult
  {
    let n = data.count
    let k = seeds.count
    let tol = tolerance == 0 ? 0 : data.meanVariance * tolerance
    var state = CentreState(data: data, sets: seeds.map { [$0] })
    var labelsOld = [Int](repeating: -1, count: n)
    var labels = [Int](repeating: 0, count: n)
    var strict = false
    var withinTolerance = false
    var iterations = 0
    for it in 0..<max(maxIterations, 1) {
      iterations = it + 1
      state.assign(norms: data.norms, labels: &labels)
      var newSets = [[Int]](repeating: [], count: k)
      for x in 0..<n { newSets[labels[x]].append(x) }
      relocateEmptyClusters(&newSets, labels: labels, state: state, norms: data.norms)
      let newState = CentreState(data: data, sets: newSets)
      let shift = newState.squaredShift(from: state, data: data)
      state = newState
      if labels == labelsOld {
        strict = true
        break
      }
      if shift <= tol {
        withinTolerance = true
        break
      }
      labelsOld = labels
    }
    if !strict { state.assign(norms: data.norms, labels: &labels) }
    var inertia = 0.0
    for x in 0..<n {
      inertia += state.squaredDistance(point: x, centre: labels[x], norms: data.norms)
    }
    let centers: [Double]
    if computeCenters {
      centers = state.effectiveSets.flatMap { data.centroid(of: $0) }
    } else {
      centers = []
    }
    return KMeansResult(
      labels: labels, inertia: inertia, iterations: iterations,
      converged: strict || withinTolerance,
      seeds: seeds, centers: centers)
  }

  /// Gives each empty cluster the point farthest from its assigned (old) centre, as
  /// scikit-learn's `_relocate_empty_clusters_dense`; the point leaves its old cluster.
  private func relocateEmptyClusters(
    _ sets: inout [[Int]], labels: [Int], state: CentreState, norms: [Double]
  ) {
    let empty = sets.indices.filter { sets[$0].isEmpty }
    guard !empty.isEmpty else { return }
    let n = labels.count
    var distance = [Double](repeating: 0, count: n)
    for x in 0..<n {
      distance[x] = state.squaredDistance(point: x, centre: labels[x], norms: norms)
    }
    guard let maxDistance = distance.max(), maxDistance > 0 else { return }
    let far = (0..<n).sorted {
      distance[$0] > distance[$1] || (distance[$0] == distance[$1] && $0 < $1)
    }
    for (slot, cluster) in empty.enumerated() where slot < far.count {
      let point = far[slot]
      let old = labels[point]
      if let p = sets[old].firstIndex(of: point) { sets[old].remove(at: p) }
      sets[cluster] = [point]
    }
  }
}

/// The outcome of one k-means run.
public struct KMeansResult: Sendable, Equatable {
  /// Cluster of each point, in `0..<k`.
  public let labels: [Int]
  /// Sum of squared distances of points to their centres.
  public let inertia: Double
  /// Lloyd iterations run.
  public let iterations: Int
  /// Whether the run stopped before `maxIterations` (labels repeated or shift within tolerance).
  public let converged: Bool
  /// Indices of the k-means++ seed points.
  public let seeds: [Int]
  /// Final centres, row-major `[k, d]` in the input's coordinates (empty when not requested).
  public let centers: [Double]

  /// Number of distinct clusters that received points.
  public var distinctClusters: Int {
    var seen = [Bool](repeating: false, count: (labels.max() ?? -1) + 1)
    for l in labels { seen[l] = true }
    return seen.reduce(0) { $0 + ($1 ? 1 : 0) }
  }
}

/// Centres of one Lloyd step, given as sets of points (a centre is the mean of its set).
///
/// `dots[c * n + x]` holds `x · c` and `selfDots[c]` holds `c · c` (centred coordinates), so that
/// `‖x − c‖² = ‖x‖² − 2 x·c + c·c`.
struct CentreState {
  let k: Int
  let n: Int
  /// Sets after resolving empty clusters to the largest one.
  let effectiveSets: [[Int]]
  var dots: [Double]
  var selfDots: [Double]
  /// Explicit centres `[k, d]` (feature path only).
  var explicit: [Double]

  init(data: KMeansData, sets: [[Int]]) {
    let k = sets.count
    let n = data.count
    self.k = k
    self.n = n
    var largest = 0
    for c in 0..<k where sets[c].count > sets[largest].count { largest = c }
    let eff = sets.map { $0.isEmpty ? sets[largest] : $0 }
    self.effectiveSets = eff
    var dots = [Double](repeating: 0, count: k * n)
    var selfDots = [Double](repeating: 0, count: k)
    var explicit: [Double] = []
    if data.usesGram {
      data.gram.withUnsafeBufferPointer { g in
        dots.withUnsafeMutableBufferPointer { r in
          for c in 0..<k {
            let members = eff[c]
            guard !members.isEmpty else { continue }
            let base = c * n
            for j in members {
              let row = j * n
              for x in 0..<n { r[base + x] += g[row + x] }
            }
            let inv = 1 / Double(members.count)
            for x in 0..<n { r[base + x] *= inv }
            var s = 0.0
            for j in members { s += r[base + j] }
            selfDots[c] = s * inv
          }
        }
      }
    } else {
      let d = data.dimension
      explicit = [Double](repeating: 0, count: k * d)
      data.centered.withUnsafeBufferPointer { xs in
        for c in 0..<k {
          let members = eff[c]
          guard !members.isEmpty else { continue }
          for j in members { for f in 0..<d { explicit[c * d + f] += xs[j * d + f] } }
          let inv = 1 / Double(members.count)
          var s = 0.0
          for f in 0..<d {
            explicit[c * d + f] *= inv
            s += explicit[c * d + f] * explicit[c * d + f]
          }
          selfDots[c] = s
        }
        explicit.withUnsafeBufferPointer { cs in
          dots.withUnsafeMutableBufferPointer { r in
            guard let pc = cs.baseAddress, let px = xs.baseAddress, let pr = r.baseAddress else {
              return
            }
            LinearAlgebra.dgemm(
              transA: false, transB: true, m: k, n: n, k: d, alpha: 1, pc, px, beta: 0, pr)
          }
        }
      }
    }
    self.dots = dots
    self.selfDots = selfDots
    self.explicit = explicit
  }

  /// `‖x − c‖²`, clamped at 0.
  @inline(__always)
  func squaredDistance(point x: Int, centre c: Int, norms: [Double]) -> Double {
    max(0, norms[x] - 2 * dots[c * n + x] + selfDots[c])
  }

  /// Nearest centre of every point (the lowest index on ties).
  func assign(norms: [Double], labels: inout [Int]) {
    var best = [Double](repeating: .infinity, count: n)
    dots.withUnsafeBufferPointer { r in
      for c in 0..<k {
        let q = selfDots[c]
        let base = c * n
        for x in 0..<n {
          let v = q - 2 * r[base + x]
          if v < best[x] {
            best[x] = v
            labels[x] = c
          }
        }
      }
    }
  }

  /// Total squared shift `Σ_c ‖c_new − c_old‖²` from `old` to these centres.
  func squaredShift(from old: CentreState, data: KMeansData) -> Double {
    var total = 0.0
    if data.usesGram {
      for c in 0..<k {
        let members = effectiveSets[c]
        var cross = 0.0
        for j in members { cross += old.dots[c * n + j] }
        cross /= Double(members.count)
        total += max(0, selfDots[c] + old.selfDots[c] - 2 * cross)
      }
    } else {
      for i in 0..<explicit.count {
        let e = explicit[i] - old.explicit[i]
        total += e * e
      }
    }
    return total
  }
}
