import GrapeSupport
import OPSData
import Testing

@testable import Evaluation

@Suite("Silhouette and batch metrics")
struct BatchMetricsTests {
  @Test("silhouette samples match scikit-learn", arguments: ["blobs", "noise", "singleton"])
  func silhouette(name: String) throws {
    let c = try #require(try Fixture.cases("silhouette.json").first { $0.string("name") == name })
    let s = try #require(
      Silhouette.samples(
        values: try c.floats("values"), count: try c.int("rows"), dimension: try c.int("dimension"),
        labels: try c.ints("labels")))
    let expected = try c.doubles("samples")
    #expect(s.count == expected.count)
    for i in s.indices { #expect(abs(s[i] - expected[i]) < 1e-6, "sample \(i)") }
  }

  @Test("silhouette needs 2 to n − 1 labels")
  func silhouetteLabelCount() {
    let v: [Float] = [0, 1, 2, 3]
    #expect(Silhouette.samples(values: v, count: 4, dimension: 1, labels: [0, 0, 0, 0]) == nil)
    #expect(Silhouette.samples(values: v, count: 4, dimension: 1, labels: [0, 1, 2, 3]) == nil)
    #expect(Silhouette.samples(values: v, count: 4, dimension: 1, labels: [0, 0, 1, 1]) != nil)
  }

  @Test(
    "batch ASW, kNN accuracy and graph connectivity match the reference",
    arguments: ["mild", "strong"])
  func batchMetrics(name: String) throws {
    let c = try #require(
      try Fixture.cases("batch_metrics.json").first { $0.string("name") == name })
    let n = try c.int("rows")
    let genes = try c.ints("genes")
    let batches = try c.ints("batches")
    let cells = try LabeledCodes(
      values: try c.floats("values"), dimension: try c.int("dimension"), geneIndex: genes,
      geneNames: (0...(genes.max() ?? 0)).map { "G\($0)" }, batchIndex: batches,
      batchNames: (0...(batches.max() ?? 0)).map { "B\($0)" })
    let m = BatchEffect.measure(
      cells: cells,
      options: BatchMetricOptions(
        classifierNeighbors: try c.int("knn_neighbors"),
        graphNeighbors: try c.int("graph_neighbors")))
    #expect(m.cellsUsed == n && !m.subsampled)
    #expect(abs((m.asw ?? -1) - (try c.double("asw"))) < 1e-6)
    #expect(m.aswLabels == (try c.int("asw_labels")))
    #expect(abs((m.knnAccuracy ?? -1) - (try c.double("knn_accuracy"))) < 1e-12)
    #expect(abs(m.chance - (try c.double("chance"))) < 1e-12)
    #expect(abs((m.graphConnectivity ?? -1) - (try c.double("graph_connectivity"))) < 1e-12)
    #expect(m.batches == 3 && abs(m.chanceUniform - 1.0 / 3) < 1e-15)
  }

  /// Neighbours by a naive double-precision search: increasing distance, ties by lower index.
  static func naiveNeighbors(_ v: [Float], n: Int, d: Int, k: Int, of i: Int) -> [(Double, Int)] {
    var dist: [(Double, Int)] = []
    for j in 0..<n where j != i {
      var s = 0.0
      for f in 0..<d {
        let e = Double(v[i * d + f]) - Double(v[j * d + f])
        s += e * e
      }
      dist.append((s, j))
    }
    dist.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
    return Array(dist.prefix(k))
  }

  @Test(
    "nearest neighbours equal a naive search (one block and many blocks)", arguments: [512, 64, 37])
  func neighbors(block: Int) {
    var rng = SplitMix(seed: 7)
    let n = 300
    let d = 5
    let v = (0..<(n * d)).map { _ in Float(rng.next()) }
    let lists = NearestNeighbors.compute(values: v, count: n, dimension: d, k: 6, block: block)
    for i in 0..<n {
      let naive = Self.naiveNeighbors(v, n: n, d: d, k: 6, of: i)
      #expect(lists.neighbors(of: i).map(Int.init) == naive.map(\.1), "row \(i)")
      #expect(abs(Double(lists.squaredDistances[i * 6]) - naive[0].0) < 1e-4)
    }
  }

  @Test("exact ties keep the lower index, across blocks", arguments: [100, 16, 7])
  func ties(block: Int) {
    // A 10 × 10 integer grid: many equal distances, all computed exactly in single precision.
    let v: [Float] = (0..<100).flatMap { [Float($0 % 10), Float($0 / 10)] }
    let lists = NearestNeighbors.compute(values: v, count: 100, dimension: 2, k: 6, block: block)
    for i in 0..<100 {
      #expect(
        lists.neighbors(of: i).map(Int.init)
          == Self.naiveNeighbors(v, n: 100, d: 2, k: 6, of: i).map(\.1), "row \(i)")
    }
  }

  @Test("huge and tiny magnitudes give the same neighbours as moderate ones")
  func magnitudes() {
    var rng = SplitMix(seed: 11)
    let v = (0..<(200 * 3)).map { _ in Float(rng.next()) }
    let reference = NearestNeighbors.compute(values: v, count: 200, dimension: 3, k: 5)
    for factor in [Float(1e25), Float(1e15), Float(1e-15), Float(1e-25)] {
      let scaled = NearestNeighbors.compute(
        values: v.map { $0 * factor }, count: 200, dimension: 3, k: 5)
      #expect(scaled.indices == reference.indices, "factor \(factor)")
      // Squared distances scale by factor² where single precision can hold them.
      if factor == 1e15 || factor == 1e-15 {
        for i in 0..<50 {
          let expected = reference.squaredDistances[i] * factor * factor
          #expect(abs(scaled.squaredDistances[i] - expected) <= 1e-4 * expected)
        }
      }
    }
  }

  @Test("k is capped at n − 1 and a point is never its own neighbour")
  func smallInputs() {
    let v: [Float] = [0, 0, 1, 0, 0, 1]
    let lists = NearestNeighbors.compute(values: v, count: 3, dimension: 2, k: 10)
    #expect(lists.k == 2)
    for i in 0..<3 { #expect(!lists.neighbors(of: i).contains(Int32(i))) }
  }

  @Test("duplicated points: leave-one-out still excludes the point itself")
  func duplicates() {
    let v: [Float] = [1, 1, 1, 1, 1, 1, 5, 5]
    let lists = NearestNeighbors.compute(values: v, count: 4, dimension: 2, k: 2)
    #expect(Array(lists.neighbors(of: 0)) == [1, 2])
    #expect(Array(lists.neighbors(of: 1)) == [0, 2])
    #expect(Array(lists.neighbors(of: 2)) == [0, 1])
  }

  @Test("subsampling above the cell limit is seeded and reported")
  func subsample() throws {
    var rng = SplitMix(seed: 3)
    let n = 500
    let v = (0..<(n * 4)).map { _ in Float(rng.next()) }
    let cells = try LabeledCodes(
      values: v, dimension: 4, geneIndex: (0..<n).map { $0 % 5 },
      geneNames: ["a", "b", "c", "d", "e"],
      batchIndex: (0..<n).map { $0 % 2 }, batchNames: ["x", "y"])
    let options = BatchMetricOptions(maxCells: 200, seed: 9)
    let a = BatchEffect.measure(cells: cells, options: options)
    let b = BatchEffect.measure(cells: cells, options: options)
    #expect(a.subsampled && a.cellsUsed == 200 && a.cellsTotal == n)
    #expect(a == b)
    let c = BatchEffect.measure(cells: cells, options: BatchMetricOptions(maxCells: 200, seed: 10))
    #expect(c.knnAccuracy != a.knnAccuracy || c.asw != a.asw)
    let rows = BatchEffect.subsample(n, 200, seed: 9)
    #expect(Set(rows).count == 200 && rows == rows.sorted())
  }

  @Test("a single cell gives no kNN metrics instead of a made-up number")
  func singleCell() throws {
    let cells = try LabeledCodes(
      values: [1, 2], dimension: 2, geneIndex: [0], geneNames: ["a"], batchIndex: [0],
      batchNames: ["b"])
    let m = BatchEffect.measure(cells: cells)
    #expect(m.knnAccuracy == nil && m.graphConnectivity == nil && m.asw == nil)
    #expect(m.cellsUsed == 1 && m.chance == 1)
  }

  @Test("a single batch gives no ASW")
  func singleBatch() throws {
    let cells = try LabeledCodes(
      values: [0, 1, 2, 3, 4, 5], dimension: 1, geneIndex: [0, 0, 0, 1, 1, 1],
      geneNames: ["a", "b"],
      batchIndex: [0, 0, 0, 0, 0, 0], batchNames: ["only"])
    let m = BatchEffect.measure(cells: cells)
    #expect(m.asw == nil && m.aswLabels == 0)
    #expect(m.knnAccuracy == 1 && m.chance == 1)
  }
}

/// A small deterministic generator for test data (uniform in [−1, 1)).
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> Double {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Double(z >> 11) / Double(1 << 53) * 2 - 1
  }
}
