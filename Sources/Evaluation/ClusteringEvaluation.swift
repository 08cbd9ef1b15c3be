import GrapeSupport

/// Mean and population standard deviation (`numpy.std`, ddof = 0) of a metric over runs.
public struct MeanStd: Sendable, Equatable {
  /// Arithmetic mean.
  public let mean: Double
  /// Population standard deviation.
  public let std: Double

  /// Summarises `values` (0 ± 0 for an empty list).
  public init(_ values: [Double]) {
    guard !values.isEmpty else {
      mean = 0
      std = 0
      return
    }
    let m = values.reduce(0, +) / Double(values.count)
    let v = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)
    mean = m
    std = v.squareRoot()
  }

  /// A summary with the given mean and standard deviation.
  public init(mean: Double, std: Double) {
    self.mean = mean
    self.std = std
  }
}

/// One k-means run scored against the complexes.
public struct ClusteringRun: Sendable, Equatable {
  /// Normalized mutual information (arithmetic).
  public let nmi: Double
  /// Adjusted Rand index.
  public let ari: Double
  /// Purity.
  public let purity: Double
  /// k-means inertia.
  public let inertia: Double
  /// Lloyd iterations.
  public let iterations: Int
  /// Clusters that received points.
  public let distinctClusters: Int
}

/// k-means at one k, run `restarts` times, with NMI, ARI and purity summarised over the runs.
public struct ClusteringSummary: Sendable, Equatable {
  /// Number of clusters.
  public let k: Int
  /// Number of runs.
  public let restarts: Int
  /// NMI over runs.
  public let nmi: MeanStd
  /// ARI over runs.
  public let ari: MeanStd
  /// Purity over runs.
  public let purity: MeanStd
  /// Every run.
  public let runs: [ClusteringRun]

  /// Summarises runs.
  public init(k: Int, runs: [ClusteringRun]) {
    self.k = k
    self.restarts = runs.count
    self.runs = runs
    self.nmi = MeanStd(runs.map(\.nmi))
    self.ari = MeanStd(runs.map(\.ari))
    self.purity = MeanStd(runs.map(\.purity))
  }
}

/// Repeated k-means scored against reference labels (GRAPE §3.7: 100 runs per k, mean ± std).
public enum ClusteringEvaluation {
  /// The generator whose splits seed the runs at `k`: run r uses the r-th `split()` of
  /// `RandomGenerator(seed: seed &+ 0x9E3779B97F4A7C15 &* k)`. The runs at a given k are therefore
  /// the same whether k is evaluated alone or inside a sweep.
  public static func generator(seed: UInt64, k: Int) -> RandomGenerator {
    RandomGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(k))
  }

  /// Runs k-means `restarts` times at `k` and scores each run against `truth`.
  ///
  /// Runs are independent and spread over the cores (on the Gram path; the feature path runs them
  /// one after another with multithreaded BLAS inside); the result does not depend on the thread
  /// count.
  ///
  /// - Parameters:
  ///   - data: the prepared points.
  ///   - truth: reference label of each point.
  ///   - k: number of clusters, `1 ≤ k ≤ data.count`.
  ///   - restarts: number of runs.
  ///   - seed: base seed (see `generator(seed:k:)`).
  ///   - kmeans: iteration settings (its `clusters` is replaced by `k`).
  public static func evaluate(
    data: KMeansData, truth: [Int], k: Int, restarts: Int, seed: UInt64,
    kmeans: KMeans = KMeans(clusters: 1)
  ) -> ClusteringSummary {
    precondition(truth.count == data.count, "one reference label per point")
    precondition(k >= 1 && k <= data.count, "k must lie in 1...n")
    var config = kmeans
    config.clusters = k
    var root = generator(seed: seed, k: k)
    let generators = (0..<restarts).map { _ in root.split() }
    let n = data.count
    let cost = n * n * 8
    let work: (Int) -> ClusteringRun = { r in
      var rng = generators[r]
      let result = config.fit(data, rng: &rng, computeCenters: false)
      let scores = ClusterAgreement.all(truth: truth, predicted: result.labels)
      return ClusteringRun(
        nmi: scores.nmi, ari: scores.ari, purity: scores.purity,
        inertia: result.inertia, iterations: result.iterations,
        distinctClusters: result.distinctClusters)
    }
    let runs: [ClusteringRun]
    if data.usesGram {
      runs = ParallelMap.map(restarts, costPerItem: cost, work)
    } else {
      runs = (0..<restarts).map(work)
    }
    return ClusteringSummary(k: k, runs: runs)
  }

  /// `evaluate` at every k in `ks` (values above the number of points must be filtered out by the
  /// caller).
  public static func sweep(
    data: KMeansData, truth: [Int], ks: [Int], restarts: Int, seed: UInt64,
    kmeans: KMeans = KMeans(clusters: 1)
  ) -> [ClusteringSummary] {
    ks.map {
      evaluate(data: data, truth: truth, k: $0, restarts: restarts, seed: seed, kmeans: kmeans)
    }
  }
}
