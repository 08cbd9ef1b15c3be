import GrapeSupport
import TensorCore
import Testing

@testable import Evaluation

@Suite("k-means")
struct KMeansTests {
  static func data(_ c: [String: Any], strategy: KMeansData.Strategy = .automatic) throws
    -> KMeansData
  {
    KMeansData(
      values: try c.floats("values"), count: try c.int("rows"), dimension: try c.int("dimension"),
      strategy: strategy)
  }

  @Test(
    "Lloyd iterations from given seeds match scikit-learn label by label",
    arguments: ["lloyd_a", "lloyd_b", "duplicate_seed"], [KMeansData.Strategy.gram, .features])
  func lloydMatchesSklearn(name: String, strategy: KMeansData.Strategy) throws {
    let c = try #require(
      try Fixture.cases("kmeans.json", key: "lloyd").first { $0.string("name") == name })
    let data = try Self.data(c, strategy: strategy)
    let seeds = try c.ints("seeds")
    let r = KMeans(clusters: seeds.count).lloyd(data, seeds: seeds)
    #expect(r.labels == (try c.ints("labels")))
    #expect(abs(r.inertia - (try c.double("inertia"))) < 1e-6 * max(1, r.inertia))
    #expect(r.iterations == (try c.int("iterations")))
    #expect(r.converged)
  }

  @Test(
    "the best of many restarts reaches scikit-learn's optimum",
    arguments: ["small_a", "small_b", "small_c", "overlap"])
  func bestInertia(name: String) throws {
    let c = try #require(try Fixture.cases("kmeans.json").first { $0.string("name") == name })
    let data = try Self.data(c)
    let k = try c.int("k")
    var root = RandomGenerator(seed: 11)
    var best = Double.infinity
    for _ in 0..<300 {
      var rng = root.split()
      best = min(best, KMeans(clusters: k).fit(data, rng: &rng, computeCenters: false).inertia)
    }
    let target = try c.double("best_inertia")
    #expect(abs(best - target) <= 1e-6 * target, "best \(best) vs scikit-learn \(target)")
  }

  @Test("well-separated clusters are recovered by every run")
  func separated() throws {
    let c = try #require(
      try Fixture.cases("kmeans.json").first { $0.string("name") == "separated" })
    let truth = try c.ints("labels")
    for strategy in [KMeansData.Strategy.gram, .features] {
      let data = try Self.data(c, strategy: strategy)
      let summary = ClusteringEvaluation.evaluate(
        data: data, truth: truth, k: try c.int("k"), restarts: 20, seed: 5)
      #expect(summary.ari.mean == 1 && summary.ari.std == 0)
      #expect(summary.nmi.mean == 1 && summary.purity.mean == 1)
      for run in summary.runs {
        #expect(abs(run.inertia - (try c.double("best_inertia"))) < 1e-6 * run.inertia)
      }
    }
  }

  @Test("a seed fixes the runs; the Gram and feature paths agree")
  func determinism() throws {
    let c = try #require(try Fixture.cases("kmeans.json").first { $0.string("name") == "overlap" })
    let gram = try Self.data(c, strategy: .gram)
    let features = try Self.data(c, strategy: .features)
    var a = RandomGenerator(seed: 99)
    var b = RandomGenerator(seed: 99)
    var f = RandomGenerator(seed: 99)
    let ra = KMeans(clusters: 6).fit(gram, rng: &a)
    let rb = KMeans(clusters: 6).fit(gram, rng: &b)
    let rf = KMeans(clusters: 6).fit(features, rng: &f)
    #expect(ra == rb)
    #expect(ra.labels == rf.labels && ra.seeds == rf.seeds)
    #expect(abs(ra.inertia - rf.inertia) < 1e-9 * ra.inertia)
    for i in ra.centers.indices { #expect(abs(ra.centers[i] - rf.centers[i]) < 1e-9) }
    var other = RandomGenerator(seed: 100)
    let ro = KMeans(clusters: 6).fit(gram, rng: &other)
    #expect(ro.seeds != ra.seeds)
    // Restart summaries do not depend on the number of threads or on the sweep.
    let truth = (0..<gram.count).map { $0 % 6 }
    let s1 = ClusteringEvaluation.evaluate(data: gram, truth: truth, k: 6, restarts: 30, seed: 1)
    let sweep = ClusteringEvaluation.sweep(
      data: gram, truth: truth, ks: [5, 6], restarts: 30, seed: 1)
    #expect(sweep[1] == s1)
  }

  @Test("k-means++ seeding: distinct points, every point at k = n, greedy choice across blobs")
  func seeding() {
    // Three tight, far-apart blobs of 10 points in 2-D.
    var values: [Float] = []
    let centres: [(Float, Float)] = [(0, 0), (100, 0), (0, 100)]
    var g = SplitMix(seed: 1)
    for (cx, cy) in centres {
      for _ in 0..<10 { values += [cx + Float(g.next()), cy + Float(g.next())] }
    }
    let data = KMeansData(values: values, count: 30, dimension: 2)
    var root = RandomGenerator(seed: 3)
    var firstCounts = [Int](repeating: 0, count: 30)
    for _ in 0..<600 {
      var rng = root.split()
      let seeds = KMeans(clusters: 3).seeds(data, rng: &rng)
      #expect(Set(seeds).count == 3)
      #expect(Set(seeds.map { $0 / 10 }).count == 3, "one seed per blob")
      firstCounts[seeds[0]] += 1
    }
    // The first centre is uniform: each point is chosen about 20 times out of 600.
    #expect(firstCounts.allSatisfy { $0 > 3 && $0 < 45 })
    var rng = RandomGenerator(seed: 4)
    let all = KMeans(clusters: 30).seeds(data, rng: &rng)
    #expect(Set(all).count == 30)
    #expect(KMeans(clusters: 14).trialsPerCentre == 4)
    #expect(KMeans(clusters: 1).trialsPerCentre == 2)
    #expect(KMeans(clusters: 30).trialsPerCentre == 5)
  }

  @Test("incremental Gram iterations equal the recompute-everything reference")
  func incrementalGram() throws {
    for name in ["small_b", "overlap", "separated"] {
      let c = try #require(try Fixture.cases("kmeans.json").first { $0.string("name") == name })
      let data = try Self.data(c, strategy: .gram)
      let n = data.count
      var root = RandomGenerator(seed: 21)
      for k in [2, 5, 9, n / 2, n] {
        for _ in 0..<8 {
          var rng = root.split()
          let config = KMeans(clusters: k)
          let seeds = config.seeds(data, rng: &rng)
          let fast = config.lloyd(data, seeds: seeds)
          let slow = config.lloydReference(data, seeds: seeds)
          #expect(
            fast.labels == slow.labels && fast.iterations == slow.iterations, "\(name) k = \(k)")
          #expect(abs(fast.inertia - slow.inertia) <= 1e-9 * max(1, slow.inertia))
          #expect(fast.centers.count == slow.centers.count)
          for i in fast.centers.indices { #expect(abs(fast.centers[i] - slow.centers[i]) < 1e-9) }
        }
      }
      // Repeated seed points start with identical centres and an empty cluster.
      let dup = KMeans(clusters: 3)
      let fast = dup.lloyd(data, seeds: [0, 0, 1])
      let slow = dup.lloydReference(data, seeds: [0, 0, 1])
      #expect(fast.labels == slow.labels && abs(fast.inertia - slow.inertia) <= 1e-9 * slow.inertia)
    }
  }

  @Test(
    "seeding potential has scikit-learn's distribution (greedy and plain k-means++)",
    arguments: ["small_a", "small_b", "small_c", "overlap"])
  func seedingDistribution(name: String) throws {
    let c = try #require(try Fixture.cases("kmeans.json").first { $0.string("name") == name })
    let s = try #require(
      try Fixture.cases("kmeans.json", key: "seeding").first { $0.string("name") == name })
    let data = try Self.data(c)
    let k = try c.int("k")
    let draws = try s.int("draws")
    for (label, trials) in [("greedy", nil), ("plain", 1)] as [(String, Int?)] {
      var root = RandomGenerator(seed: 77)
      var potentials: [Double] = []
      var distance = [Double](repeating: 0, count: data.count)
      for _ in 0..<draws {
        var rng = root.split()
        let seeds = KMeans(clusters: k, localTrials: trials).seeds(data, rng: &rng)
        var closest = [Double](repeating: .infinity, count: data.count)
        for seed in seeds {
          data.squaredDistances(from: seed, into: &distance)
          for i in closest.indices { closest[i] = min(closest[i], distance[i]) }
        }
        potentials.append(closest.reduce(0, +))
      }
      let ours = MeanStd(potentials)
      let mean = try s.double(label + "_mean")
      let std = try s.double(label + "_std")
      let standardError = ((std * std + ours.std * ours.std) / Double(draws)).squareRoot()
      #expect(
        abs(ours.mean - mean) < 4 * standardError,
        "\(label): \(ours.mean) vs \(mean) ± \(standardError)")
      #expect(abs(ours.std - std) < 0.15 * std, "\(label) spread: \(ours.std) vs \(std)")
    }
    // The two seedings differ by far more than the tolerance: the check can tell them apart.
    let gap = (try s.double("plain_mean")) - (try s.double("greedy_mean"))
    #expect(gap > 10 * (try s.double("plain_std")) / Double(draws).squareRoot())
  }

  @Test("the tolerance is relative to the mean variance")
  func tolerance() throws {
    let c = try #require(
      try Fixture.cases("kmeans.json", key: "lloyd").first { $0.string("name") == "lloyd_b" })
    let data = try Self.data(c)
    let seeds = try c.ints("seeds")
    let strict = KMeans(clusters: seeds.count, tolerance: 0).lloyd(data, seeds: seeds)
    let loose = KMeans(clusters: seeds.count, tolerance: 1e6).lloyd(data, seeds: seeds)
    #expect(loose.iterations == 1)
    #expect(strict.iterations >= (try c.int("iterations")))
    let capped = KMeans(clusters: seeds.count, maxIterations: 1, tolerance: 0).lloyd(
      data, seeds: seeds)
    #expect(capped.iterations == 1 && !capped.converged)
  }
}
