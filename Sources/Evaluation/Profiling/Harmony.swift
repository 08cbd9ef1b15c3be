import Foundation
import GrapeSupport

/// Harmony: iterative alignment of per-cell coordinates over batches (Korsunsky et al., *Fast,
/// sensitive and accurate integration of single-cell data with Harmony*, Nature Methods 2019),
/// step by step as harmonypy's `run_harmony` (the pure-Python harmonypy 0.0.10) computes it with
/// one batch variable.
///
/// Input: a cells × d matrix of principal components (harmonypy expects a PCA, as scanpy's
/// `harmony_integrate` passes `X_pca`; ``ProfilePipeline`` passes the top 50). Settings and their
/// defaults: `clusters` K = min(round(N / 30), 100) (rounding half to even, as NumPy), `theta` 2
/// (diversity penalty), `sigma` 0.1 (soft-clustering bandwidth), `lambda` 1 (ridge penalty),
/// `maxIterations` 10 (Harmony rounds), `maxKMeansIterations` 20, `epsilonCluster` 1e-5,
/// `epsilonHarmony` 1e-4, `blockSize` 0.05.
///
/// 1. `Z_cos`: each cell divided by its largest coordinate, then scaled to unit length. Initial
///    centroids `Y`: k-means (k-means++ seeding, 10 starts, 25 Lloyd iterations — scikit-learn's
///    `KMeans` as harmonypy calls it, with this toolkit's random stream) on `Z_cos`, or centroids
///    given by the caller; each scaled to unit length.
/// 2. Soft clustering: `dist = 2(1 − Yᵀ Z_cos)`, `R ∝ exp(−dist / σ)` per cell; `E = (Σᵢ R) ⊗ Pr_b`
///    (expected cells of each batch per cluster), `O = R Φᵀ` (observed).
/// 3. Each Harmony round: up to `maxKMeansIterations` of {`Y` ← normalised `Z_cos Rᵀ`, distances,
///    then R updated block by block — cells in a shuffled order cut into ⌈1 / blockSize⌉ blocks; a
///    block's cells leave E and O, get `R ∝ exp(−dist / σ) · ((E + 1) / (O + 1))^θ` of their
///    batch, and return}, stopping when the objective summed over a window of 3 changes by less
///    than `epsilonCluster` relatively; then the mixture-of-experts ridge correction: for each
///    cluster k, `W = (Φ_R Φᵀ + diag(0, λ, …, λ))⁻¹ Φ_R Zᵀ` with `Φ_R = Φ · diag(R_k)` and Φ the
///    batch indicators below a row of ones; the intercept row is kept and `Z_corr = Z − Σ_k Wᵀ Φ_R`;
///    `Z_cos` = `Z_corr` scaled to unit length per cell. Harmony stops when the objective (k-means
///    error + σ·entropy + σ·θ·cross-entropy of the batch proportions) falls by less than
///    `epsilonHarmony` relatively.
///
/// The block order and the initial k-means use the generator passed in, so a run is fixed by
/// its seed; harmonypy's NumPy stream differs, so the two agree exactly only with the same
/// initial centroids and `blockSize` 1 (one block, order-free), which the tests use.
public struct Harmony: Sendable, Equatable {
  /// Clusters K; `nil` means min(round(N / 30), 100).
  public var clusters: Int?
  /// Diversity penalty θ.
  public var theta = 2.0
  /// Soft k-means bandwidth σ.
  public var sigma = 0.1
  /// Ridge penalty λ.
  public var lambda = 1.0
  /// Harmony rounds.
  public var maxIterations = 10
  /// k-means iterations per round.
  public var maxKMeansIterations = 20
  /// Relative change of the windowed k-means objective that ends a round's clustering.
  public var epsilonCluster = 1e-5
  /// Relative fall of the objective that ends Harmony.
  public var epsilonHarmony = 1e-4
  /// Fraction of the cells updated together in the soft clustering.
  public var blockSize = 0.05

  /// Harmony with harmonypy's defaults.
  public init() {}

  /// The result of ``correct(_:count:dimension:batchOfCell:rng:initialCentroids:)``.
  public struct Result: Sendable, Equatable {
    /// The corrected coordinates, row-major `[cells, d]`.
    public let corrected: [Double]
    /// The objective after initialisation and after each round.
    public let objective: [Double]
    /// The k-means iterations of each round (harmonypy's `kmeans_rounds`: the last index run).
    public let kmeansRounds: [Int]
    /// The number of clusters used.
    public let clusters: Int
  }

  /// The default number of clusters for `n` cells: min(round(n / 30), 100), at least 1.
  public static func defaultClusters(cells n: Int) -> Int {
    max(1, min(Int((Double(n) / 30).rounded(.toNearestOrEven)), 100))
  }

  /// Corrects `z` (row-major `[count, dimension]`, e.g. principal components) over the batches
  /// `batchOfCell`.
  ///
  /// - Parameters:
  ///   - initialCentroids: row-major `[K, dimension]` starting centroids (harmonypy's
  ///     `cluster_fn`); by default k-means on the cosine-normalised cells.
  /// - Throws: ``ProfilingError/invalidSetting(name:value:reason:)`` for settings out of range or
  ///   more clusters than cells; ``ProfilingError/invalidInput(reason:)`` for a cell with all
  ///   coordinates zero (it has no direction).
  public func correct(
    _ z: [Double], count n: Int, dimension d: Int, batchOfCell: [Int], rng: inout RandomGenerator,
    initialCentroids: [Double]? = nil
  ) throws -> Result {
    guard n > 0, d > 0, z.count == n * d, batchOfCell.count == n else {
      throw ProfilingError.invalidInput(reason: "Harmony: \(z.count) values for \(n) cells × \(d) and \(batchOfCell.count) batch labels")
    }
    guard theta >= 0, sigma > 0, lambda >= 0, maxIterations >= 1, maxKMeansIterations >= 1,
      blockSize > 0, blockSize <= 1
    else {
      throw ProfilingError.invalidSetting(
        name: "Harmony", value: "theta \(theta), sigma \(sigma), lambda \(lambda), block \(blockSize)",
        reason: "theta and lambda must be ≥ 0, sigma > 0, iterations ≥ 1, block size in (0, 1]")
    }
    let k = clusters ?? Self.defaultClusters(cells: n)
    guard k >= 1, k <= n else {
      throw ProfilingError.invalidSetting(name: "Harmony clusters", value: "\(k)", reason: "must lie in 1...\(n) (the cells)")
    }
    // Batches present, in order of their index (harmonypy's one-hot columns).
    let present = Array(Set(batchOfCell)).sorted()
    let column = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, $0) })
    let nb = present.count
    let batch = batchOfCell.map { column[$0] ?? 0 }
    var prB = [Double](repeating: 0, count: nb)
    for b in batch { prB[b] += 1 }
    for b in 0..<nb { prB[b] /= Double(n) }

    var state = State(n: n, d: d, k: k, nb: nb, batch: batch, prB: prB, sigma: sigma, theta: theta)
    // Z_cos: each cell over its largest coordinate, then unit length.
    var zcos = z
    for i in 0..<n {
      var largest = -Double.infinity
      for j in 0..<d { largest = max(largest, z[i * d + j]) }
      var norm = 0.0
      for j in 0..<d {
        zcos[i * d + j] = z[i * d + j] / largest
        norm += zcos[i * d + j] * zcos[i * d + j]
      }
      let s = norm.squareRoot()
      guard s > 0, s.isFinite else {
        throw ProfilingError.invalidInput(reason: "Harmony: cell \(i) has no direction (all coordinates zero)")
      }
      for j in 0..<d { zcos[i * d + j] /= s }
    }
    var y: [Double]
    if let initialCentroids {
      guard initialCentroids.count == k * d else {
        throw ProfilingError.invalidSetting(
          name: "Harmony initial centroids", value: "\(initialCentroids.count) values", reason: "expected \(k) × \(d)")
      }
      y = initialCentroids
    } else {
      y = Self.kmeansCentroids(zcos, count: n, dimension: d, clusters: k, rng: &rng)
    }
    Self.normaliseRows(&y, rows: k, columns: d)
    state.zcos = zcos
    state.y = y
    state.distances()
    // Initial R: the plain soft assignment.
    state.r = state.scaledDistances()
    for i in 0..<n {
      var s = 0.0
      for c in 0..<k { s += state.r[c * n + i] }
      for c in 0..<k { state.r[c * n + i] /= s }
    }
    state.recountEO()
    var objectiveKMeans = [state.objective()]
    var objectiveHarmony = [objectiveKMeans[0]]
    var rounds: [Int] = []
    var zcorr = z
    for _ in 0..<maxIterations {
      // Clustering.
      var last = 0
      for it in 0..<maxKMeansIterations {
        last = it
        state.updateCentroids()
        state.distances()
        state.updateR(blockSize: blockSize, rng: &rng)
        objectiveKMeans.append(state.objective())
        if it > 3 {
          let m = objectiveKMeans.count
          var old = 0.0
          var new = 0.0
          for w in 0..<3 {
            old += objectiveKMeans[m - 2 - w]
            new += objectiveKMeans[m - 1 - w]
          }
          if abs(old - new) / abs(old) < epsilonCluster { break }
        }
      }
      rounds.append(last)
      objectiveHarmony.append(objectiveKMeans[objectiveKMeans.count - 1])
      // Mixture-of-experts ridge correction.
      zcorr = try state.correct(z, lambda: lambda)
      state.zcos = zcorr
      Self.normaliseRows(&state.zcos, rows: n, columns: d)
      let m = objectiveHarmony.count
      if (objectiveHarmony[m - 2] - objectiveHarmony[m - 1]) / abs(objectiveHarmony[m - 2]) < epsilonHarmony { break }
    }
    return Result(corrected: zcorr, objective: objectiveHarmony, kmeansRounds: rounds, clusters: k)
  }

  /// Scales each row to unit Euclidean length (rows of length 0 are left as they are).
  static func normaliseRows(_ x: inout [Double], rows: Int, columns d: Int) {
    for i in 0..<rows {
      var s = 0.0
      for j in 0..<d { s += x[i * d + j] * x[i * d + j] }
      let norm = s.squareRoot()
      if norm > 0 { for j in 0..<d { x[i * d + j] /= norm } }
    }
  }

  /// scikit-learn's `KMeans(n_clusters=k, init="k-means++", n_init=10, max_iter=25)` centres:
  /// the run of lowest inertia among 10 seeded starts.
  static func kmeansCentroids(
    _ x: [Double], count n: Int, dimension d: Int, clusters k: Int, rng: inout RandomGenerator
  ) -> [Double] {
    let data = KMeansData(values: x.map(Float.init), count: n, dimension: d, strategy: .features)
    let kmeans = KMeans(clusters: k, maxIterations: 25)
    var best: KMeansResult?
    for _ in 0..<10 {
      let run = kmeans.fit(data, rng: &rng)
      if best.map({ run.inertia < $0.inertia }) ?? true { best = run }
    }
    return best?.centers ?? [Double](repeating: 0, count: k * d)
  }
}

/// The arrays of one Harmony run: cluster-major `R`, `dist` and `[K, B]` `E`, `O`.
private struct State {
  let n: Int
  let d: Int
  let k: Int
  let nb: Int
  let batch: [Int]
  let prB: [Double]
  let sigma: Double
  let theta: Double
  var zcos: [Double] = []
  var y: [Double] = []
  var dist: [Double]
  var r: [Double]
  var e: [Double]
  var o: [Double]

  init(n: Int, d: Int, k: Int, nb: Int, batch: [Int], prB: [Double], sigma: Double, theta: Double) {
    self.n = n
    self.d = d
    self.k = k
    self.nb = nb
    self.batch = batch
    self.prB = prB
    self.sigma = sigma
    self.theta = theta
    dist = [Double](repeating: 0, count: k * n)
    r = [Double](repeating: 0, count: k * n)
    e = [Double](repeating: 0, count: k * nb)
    o = [Double](repeating: 0, count: k * nb)
  }

  /// `dist = 2(1 − Yᵀ Z_cos)` (one GEMM: `[K, d] · [n, d]ᵀ`).
  mutating func distances() {
    let (k, n, d) = (self.k, self.n, self.d)
    y.withUnsafeBufferPointer { yb in
      zcos.withUnsafeBufferPointer { zb in
        dist.withUnsafeMutableBufferPointer { db in
          guard let py = yb.baseAddress, let pz = zb.baseAddress, let pd = db.baseAddress else { return }
          LinearAlgebra.dgemm(transA: false, transB: true, m: k, n: n, k: d, alpha: 1, py, pz, beta: 0, pd)
        }
      }
    }
    for i in 0..<(k * n) { dist[i] = 2 * (1 - dist[i]) }
  }

  /// `exp(−dist/σ − max_k(−dist/σ))` per cell.
  func scaledDistances() -> [Double] {
    var out = [Double](repeating: 0, count: k * n)
    for i in 0..<n {
      var top = -Double.infinity
      for c in 0..<k { top = max(top, -dist[c * n + i] / sigma) }
      for c in 0..<k { out[c * n + i] = Foundation.exp(-dist[c * n + i] / sigma - top) }
    }
    return out
  }

  /// `E = (Σᵢ R) ⊗ Pr_b`, `O = R Φᵀ`.
  mutating func recountEO() {
    e = [Double](repeating: 0, count: k * nb)
    o = [Double](repeating: 0, count: k * nb)
    for c in 0..<k {
      var total = 0.0
      for i in 0..<n {
        total += r[c * n + i]
        o[c * nb + batch[i]] += r[c * n + i]
      }
      for b in 0..<nb { e[c * nb + b] = total * prB[b] }
    }
  }

  /// `Y` ← `Z_cos Rᵀ`, each centroid at unit length.
  mutating func updateCentroids() {
    let (k, n, d) = (self.k, self.n, self.d)
    y = [Double](repeating: 0, count: k * d)
    r.withUnsafeBufferPointer { rb in
      zcos.withUnsafeBufferPointer { zb in
        y.withUnsafeMutableBufferPointer { yb in
          guard let pr = rb.baseAddress, let pz = zb.baseAddress, let py = yb.baseAddress else { return }
          LinearAlgebra.dgemm(transA: false, transB: false, m: k, n: d, k: n, alpha: 1, pr, pz, beta: 0, py)
        }
      }
    }
    Harmony.normaliseRows(&y, rows: k, columns: d)
  }

  /// The block-wise update of R with the diversity penalty.
  mutating func updateR(blockSize: Double, rng: inout RandomGenerator) {
    let scaled = scaledDistances()
    var order = Array(0..<n)
    let blocks = Int((1 / blockSize).rounded(.up))
    if blocks > 1 { rng.shuffle(&order) }
    // numpy.array_split: the first n % blocks parts hold one more cell.
    let base = n / blocks
    let extra = n % blocks
    var start = 0
    for part in 0..<blocks {
      let size = base + (part < extra ? 1 : 0)
      let cells = order[start..<(start + size)]
      start += size
      if cells.isEmpty { continue }
      for c in 0..<k {
        var total = 0.0
        for i in cells {
          total += r[c * n + i]
          o[c * nb + batch[i]] -= r[c * n + i]
        }
        for b in 0..<nb { e[c * nb + b] -= total * prB[b] }
      }
      // ((E + 1) / (O + 1))^θ depends on the cluster and the batch only.
      var penalty = [Double](repeating: 0, count: k * nb)
      for q in 0..<(k * nb) { penalty[q] = Foundation.pow((e[q] + 1) / (o[q] + 1), theta) }
      for i in cells {
        var s = 0.0
        for c in 0..<k {
          let v = scaled[c * n + i] * penalty[c * nb + batch[i]]
          r[c * n + i] = v
          s += abs(v)
        }
        for c in 0..<k { r[c * n + i] /= s }
      }
      for c in 0..<k {
        var total = 0.0
        for i in cells {
          total += r[c * n + i]
          o[c * nb + batch[i]] += r[c * n + i]
        }
        for b in 0..<nb { e[c * nb + b] += total * prB[b] }
      }
    }
  }

  /// k-means error + σ·Σ R log R + σ·θ·Σ R log((O + 1)/(E + 1)) of the cell's batch.
  func objective() -> Double {
    var error = 0.0
    var entropy = 0.0
    var cross = 0.0
    var ratio = [Double](repeating: 0, count: k * nb)
    for q in 0..<(k * nb) { ratio[q] = Foundation.log((o[q] + 1) / (e[q] + 1)) }
    for c in 0..<k {
      for i in 0..<n {
        let v = r[c * n + i]
        error += v * dist[c * n + i]
        let h = v * Foundation.log(v)
        if h.isFinite { entropy += h * sigma }
        cross += v * sigma * theta * ratio[c * nb + batch[i]]
      }
    }
    return error + entropy + cross
  }

  /// `Z_corr = Z − Σ_k Wᵀ Φ_R` with the intercept row of each `W` zeroed.
  func correct(_ z: [Double], lambda: Double) throws -> [Double] {
    var out = z
    let m = nb + 1
    for c in 0..<k {
      // A = Φ_R Φᵀ + diag(0, λ…): an arrow matrix; rhs = Φ_R Zᵀ, [m, d].
      var a = [Double](repeating: 0, count: m * m)
      var rhs = [Double](repeating: 0, count: m * d)
      for i in 0..<n {
        let w = r[c * n + i]
        let b = 1 + batch[i]
        a[0] += w
        a[b] += w
        a[b * m] += w
        a[b * m + b] += w
        for j in 0..<d {
          rhs[j] += w * z[i * d + j]
          rhs[b * d + j] += w * z[i * d + j]
        }
      }
      for b in 1..<m { a[b * m + b] += lambda }
      let w = try Self.solve(a, rhs, m: m, columns: d)
      for i in 0..<n {
        let b = 1 + batch[i]
        let ri = r[c * n + i]
        for j in 0..<d { out[i * d + j] -= ri * w[b * d + j] }
      }
    }
    return out
  }

  /// Solves `A X = B` (`A` m × m, `B` m × columns) by Gaussian elimination with partial pivoting.
  static func solve(_ a: [Double], _ b: [Double], m: Int, columns: Int) throws -> [Double] {
    var a = a
    var x = b
    for p in 0..<m {
      var pivot = p
      for r in (p + 1)..<max(m, p + 1) where abs(a[r * m + p]) > abs(a[pivot * m + p]) { pivot = r }
      guard abs(a[pivot * m + p]) > 0 else {
        throw ProfilingError.invalidSetting(
          name: "Harmony lambda", value: "0", reason: "the ridge system of a cluster is singular; use a positive lambda")
      }
      if pivot != p {
        for j in 0..<m { a.swapAt(p * m + j, pivot * m + j) }
        for j in 0..<columns { x.swapAt(p * columns + j, pivot * columns + j) }
      }
      for r in (p + 1)..<max(m, p + 1) {
        let f = a[r * m + p] / a[p * m + p]
        if f == 0 { continue }
        for j in p..<m { a[r * m + j] -= f * a[p * m + j] }
        for j in 0..<columns { x[r * columns + j] -= f * x[p * columns + j] }
      }
    }
    for p in stride(from: m - 1, through: 0, by: -1) {
      for j in 0..<columns {
        var s = x[p * columns + j]
        for q in (p + 1)..<m { s -= a[p * m + q] * x[q * columns + j] }
        x[p * columns + j] = s / a[p * m + p]
      }
    }
    return x
  }
}
