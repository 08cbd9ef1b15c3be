import GrapeSupport
import Foundation
import TensorCore
import Testing

@testable import Evaluation

@Suite("Engineered features")
struct FeatureExtractorTests {
  /// A [channels, size, size] crop: channel 0 an ellipse (semi-axes a along x, b along y) of
  /// brightness 1 on 0.1, the other channels `level` plus noise.
  static func cell(
    size: Int = 24, a: Double, b: Double, channels: Int = 2, level: Float = 0.5,
    rng: inout RandomGenerator, noise: Double = 0.02
  ) -> [Float] {
    var out = [Float](repeating: 0, count: channels * size * size)
    let c = Double(size - 1) / 2
    for y in 0..<size {
      for x in 0..<size {
        let dx = (Double(x) - c) / a
        let dy = (Double(y) - c) / b
        out[y * size + x] = Float((dx * dx + dy * dy <= 1 ? 1.0 : 0.1) + noise * rng.normal())
        for ch in 1..<channels {
          out[ch * size * size + y * size + x] = level + Float(noise * rng.normal())
        }
      }
    }
    return out
  }

  @Test("nucleus area, eccentricity and axes of an ellipse")
  func nucleusShape() {
    var rng = RandomGenerator(seed: 1)
    let spec = CellFeatureSpec(channels: 2, height: 24, width: 24)
    let disk = Self.cell(a: 6, b: 6, rng: &rng)
    let ellipse = Self.cell(a: 9, b: 4, rng: &rng)
    let names = spec.names
    func value(_ f: [Double], _ name: String) -> Double { f[names.firstIndex(of: name) ?? 0] }
    let fd = disk.withUnsafeBufferPointer { spec.features(of: $0) }
    let fe = ellipse.withUnsafeBufferPointer { spec.features(of: $0) }
    #expect(fd.count == spec.count && spec.count == 2 * 14 + 5)
    #expect(abs(value(fd, "nucleus_area") * 576 - Double.pi * 36) < 8)
    #expect(value(fd, "nucleus_eccentricity") < 0.2)
    let expectedEcc = (1 - 16.0 / 81).squareRoot()
    #expect(abs(value(fe, "nucleus_eccentricity") - expectedEcc) < 0.05)
    #expect(abs(value(fe, "nucleus_major_axis") - 18) < 1.5)
    #expect(abs(value(fe, "nucleus_minor_axis") - 8) < 1.0)
    #expect(value(fd, "nucleus_offset") < 0.02)
    // Channel 0 is brighter inside the nucleus; channel 1 is flat.
    #expect(value(fd, "ch0_nucleus_mean") > 0.95 && value(fd, "ch0_outside_mean") < 0.15)
    #expect(abs(value(fd, "ch1_nucleus_mean") - value(fd, "ch1_outside_mean")) < 0.01)
  }

  @Test("quantiles, co-occurrence and Otsu on hand-made inputs")
  func primitives() {
    let spec = CellFeatureSpec(channels: 1, height: 4, width: 4)
    // numpy.quantile([0, 1, ..., 9], 0.25) = 2.25
    #expect(abs(spec.quantile((0..<10).map(Float.init), 0.25) - 2.25) < 1e-12)
    #expect(abs(spec.quantile((0..<10).map(Float.init), 0.9) - 8.1) < 1e-12)
    // Checkerboard of 0 and 1: every neighbour pair differs by the full range (levels 0 and 7).
    let board: [Float] = (0..<16).map { Float(($0 / 4 + $0 % 4) % 2) }
    let (contrast, homogeneity) = board.withUnsafeBufferPointer {
      spec.cooccurrence($0, low: 0, high: 1)
    }
    #expect(abs(contrast - 49) < 1e-12 && abs(homogeneity - 1.0 / 50) < 1e-12)
    let flat = [Float](repeating: 3, count: 16)
    let (c0, h0) = flat.withUnsafeBufferPointer { spec.cooccurrence($0, low: 3, high: 3) }
    #expect(c0 == 0 && h0 == 1)
    let bimodal: [Float] = [0.1, 0.12, 0.09, 0.11, 0.9, 0.92, 0.88, 0.91]
    let t = bimodal.withUnsafeBufferPointer { OtsuThreshold.threshold($0) }
    #expect(t.map { $0 > 0.12 && $0 <= 0.88 } == true)
    #expect(flat.withUnsafeBufferPointer { OtsuThreshold.threshold($0) } == nil)
  }

  @Test("streaming in chunks equals one pass, and equals standardise → PCA → per-gene mean")
  func streaming() throws {
    var rng = RandomGenerator(seed: 2)
    let genes = ["A", "B", "C", "D"]
    var images: [Float] = []
    var labels: [Int] = []
    for i in 0..<40 {
      let g = i % 4
      images += Self.cell(
        a: 3 + Double(g) + rng.uniform(), b: 3 + rng.uniform() * 2, level: Float(g) * 0.2,
        rng: &rng, noise: 0.05)
      labels.append(g)
    }
    var whole = try FeatureExtractor(
      channels: 2, height: 24, width: 24, genes: genes, components: 5)
    try whole.add(images: images, geneIndex: labels)
    var chunked = try FeatureExtractor(
      channels: 2, height: 24, width: 24, genes: genes, components: 5)
    let size = 2 * 24 * 24
    for start in stride(from: 0, to: 40, by: 7) {
      let end = min(start + 7, 40)
      try chunked.add(
        images: Array(images[(start * size)..<(end * size)]), geneIndex: Array(labels[start..<end]))
    }
    let a = try whole.finalize()
    let b = try chunked.finalize()
    #expect(a.embedding == b.embedding && a.cellsProcessed == 40)
    #expect(a.embedding.genes == genes && a.embedding.dimension == 5)

    // Reference: features of every cell, standardised, PCA on cells, mean per gene.
    let spec = whole.spec
    let f = spec.count
    var rows: [Double] = []
    images.withUnsafeBufferPointer { all in
      for i in 0..<40 {
        rows += spec.features(of: UnsafeBufferPointer(rebasing: all[(i * size)..<((i + 1) * size)]))
      }
    }
    var z = [Float](repeating: 0, count: 40 * f)
    for j in 0..<f {
      let col = (0..<40).map { rows[$0 * f + j] }
      let mean = col.reduce(0, +) / 40
      let sd = (col.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 40).squareRoot()
      for i in 0..<40 { z[i * f + j] = Float(sd > 1e-12 ? (col[i] - mean) / sd : 0) }
    }
    let pca = PCA.fit(values: z, count: 40, dimension: f, components: 5)
    let proj = pca.transform(z, count: 40)
    for g in 0..<4 {
      for c in 0..<5 {
        let expected = (0..<40).filter { $0 % 4 == g }.map { proj[$0 * 5 + c] }.reduce(0, +) / 10
        #expect(
          abs(Double(a.embedding.values[g * 5 + c]) - expected) < 2e-3 * max(1, abs(expected)),
          "gene \(g) pc \(c)")
      }
    }
    #expect(abs(a.explainedVarianceRatio[0] - pca.explainedVarianceRatio[0]) < 1e-4)
  }

  @Test("features separate phenotypes: genes of a complex share one, mAP is 1")
  func separatesPhenotypes() throws {
    var rng = RandomGenerator(seed: 3)
    let genes = ["g1", "g2", "g3", "g4", "g5", "g6", "ctrl"]
    var extractor = try FeatureExtractor(
      channels: 2, height: 24, width: 24, genes: genes, components: 8)
    for _ in 0..<3 {
      var images: [Float] = []
      var labels: [Int] = []
      for g in 0..<6 {
        for _ in 0..<8 {
          let radius = [3.0, 6.0, 9.0][g / 2]
          images += Self.cell(
            a: radius + rng.uniform(), b: radius, level: Float(g / 2) * 0.3, rng: &rng, noise: 0.05)
          labels.append(g)
        }
      }
      try extractor.add(images: images, geneIndex: labels)
    }
    let result = try extractor.finalize()
    #expect(result.genesWithoutCells == ["ctrl"])
    #expect(result.cellCounts == [24, 24, 24, 24, 24, 24])
    let ap = AveragePrecision.compute(
      values: result.embedding.values, count: 6, dimension: result.embedding.dimension,
      labels: [0, 0, 1, 1, 2, 2])
    #expect(ap.meanAveragePrecision == 1)
  }

  /// Feature rows of 3 batches × 5 genes (gene 4 the control), each batch with its own shift
  /// and scale of every feature; batch 2 has no control cells.
  static func batchRows(features f: Int) -> (rows: [[Double]], genes: [Int], batches: [Int]) {
    var rng = RandomGenerator(seed: 11)
    var rows: [[Double]] = []
    var genes: [Int] = []
    var batches: [Int] = []
    for b in 0..<3 {
      let scale = (0..<f).map { 0.5 + Double(b) + 0.1 * Double($0 % 3) }
      let shift = (0..<f).map { 10 * Double(b) - Double($0) }
      for g in 0..<5 where !(b == 2 && g == 4) {
        for _ in 0..<6 {
          rows.append((0..<f).map { j in (Double(g * (j % 4)) + rng.normal()) * scale[j] + shift[j] })
          genes.append(g)
          batches.append(b)
        }
      }
    }
    return (rows, genes, batches)
  }

  @Test("per-batch control normalisation equals standardising each batch by its controls first")
  func controlNormalisation() throws {
    let genes = ["a", "b", "c", "d", "ctrl"]
    var normalised = try FeatureExtractor(
      channels: 1, height: 8, width: 8, genes: genes, components: 4, normalization: .controls, controlGene: 4, batches: 3)
    let f = normalised.spec.count
    let (rows, geneOf, batchOf) = Self.batchRows(features: f)
    normalised.fold(Array(rows[..<40]), geneIndex: Array(geneOf[..<40]), batchIndex: Array(batchOf[..<40]))
    normalised.fold(Array(rows[40...]), geneIndex: Array(geneOf[40...]), batchIndex: Array(batchOf[40...]))
    // Reference: each batch standardised by hand (population statistics of its controls, of all
    // its cells for batch 2), then the plain extractor.
    var reference = rows
    for b in 0..<3 {
      let members = rows.indices.filter { batchOf[$0] == b }
      let controls = members.filter { geneOf[$0] == 4 }
      let basis = controls.isEmpty ? members : controls
      for j in 0..<f {
        let mean = basis.map { rows[$0][j] }.reduce(0, +) / Double(basis.count)
        let sd = (basis.map { (rows[$0][j] - mean) * (rows[$0][j] - mean) }.reduce(0, +) / Double(basis.count)).squareRoot()
        for i in members { reference[i][j] = (rows[i][j] - mean) / sd }
      }
    }
    var plain = try FeatureExtractor(channels: 1, height: 8, width: 8, genes: genes, components: 4)
    plain.fold(reference, geneIndex: geneOf)
    let a = try normalised.finalize()
    let b = try plain.finalize()
    #expect(a.embedding.genes == b.embedding.genes && a.cellsProcessed == rows.count)
    for (x, y) in zip(a.embedding.values, b.embedding.values) { #expect(abs(x - y) < 1e-4 * max(1, abs(y)), "\(x) vs \(y)") }
    for (x, y) in zip(a.explainedVarianceRatio, b.explainedVarianceRatio) { #expect(abs(x - y) < 1e-9) }
    // Without normalisation the batches' shifts dominate, and the result differs.
    var raw = try FeatureExtractor(channels: 1, height: 8, width: 8, genes: genes, components: 4)
    raw.fold(rows, geneIndex: geneOf)
    let c = try raw.finalize()
    #expect(zip(c.embedding.values, b.embedding.values).contains { abs($0 - $1) > 0.1 })
  }

  @Test("control normalisation: a missing control gene or a batch out of range is an error")
  func controlNormalisationBadInput() throws {
    #expect(throws: EvaluationError.self) {
      try FeatureExtractor(channels: 1, height: 4, width: 4, genes: ["a", "b"], normalization: .controls, controlGene: nil)
    }
    var e = try FeatureExtractor(
      channels: 1, height: 4, width: 4, genes: ["a", "ctrl"], normalization: .controls, controlGene: 1, batches: 2)
    let images = [Float](repeating: 0.5, count: 32)
    #expect(throws: EvaluationError.labelOutOfRange(input: "feature images", field: "batch", row: 1, value: 2, count: 2)) {
      try e.add(images: images, geneIndex: [0, 1], batchIndex: [0, 2])
    }
    #expect(throws: EvaluationError.self) { try e.add(images: images, geneIndex: [0, 1]) }
    #expect(e.cellCount == 0)
  }

  @Test("bad input: NaN pixel, wrong size, unknown gene, no cells, bad settings")
  func badInput() throws {
    var e = try FeatureExtractor(channels: 1, height: 4, width: 4, genes: ["a", "b"])
    var nan = [Float](repeating: 0.5, count: 32)
    nan[20] = .nan
    #expect(throws: EvaluationError.invalidImage(row: 1, reason: "NaN or infinite pixel value")) {
      try e.add(images: nan, geneIndex: [0, 1])
    }
    #expect(e.cellCount == 0)
    #expect(throws: EvaluationError.self) {
      try e.add(images: [Float](repeating: 0, count: 31), geneIndex: [0, 1])
    }
    #expect(throws: EvaluationError.self) {
      try e.add(images: [Float](repeating: 0, count: 16), geneIndex: [2])
    }
    #expect(throws: EvaluationError.self) { try e.finalize() }
    #expect(throws: EvaluationError.self) {
      try FeatureExtractor(channels: 0, height: 4, width: 4, genes: ["a"])
    }
    #expect(throws: EvaluationError.self) {
      try FeatureExtractor(channels: 1, height: 4, width: 4, genes: ["a", "a"])
    }
    #expect(throws: EvaluationError.self) {
      try FeatureExtractor(channels: 1, height: 4, width: 4, genes: [])
    }
    // Constant images: every feature constant → a zero embedding, no crash.
    try e.add(images: [Float](repeating: 0.5, count: 48), geneIndex: [0, 1, 0])
    let r = try e.finalize()
    #expect(r.embedding.values.allSatisfy { $0 == 0 })
  }

  @Test("PCA matches scikit-learn (covariance and Gram paths)", arguments: ["tall", "wide"])
  func pcaFixture(name: String) throws {
    let c = try #require(try Fixture.cases("pca.json").first { $0.string("name") == name })
    let n = try c.int("rows")
    let d = try c.int("dimension")
    let m = try c.int("components")
    let pca = PCA.fit(values: try c.floats("values"), count: n, dimension: d, components: m)
    let variance = try c.doubles("explained_variance")
    let ratio = try c.doubles("explained_variance_ratio")
    let comps = try c.doubles("component_rows")
    for i in 0..<m {
      #expect(abs(pca.explainedVariance[i] - variance[i]) < 1e-8 * max(1, variance[i]))
      #expect(abs(pca.explainedVarianceRatio[i] - ratio[i]) < 1e-9)
    }
    for i in 0..<(m * d) {
      #expect(abs(pca.components[i] - comps[i]) < 1e-7, "component entry \(i)")
    }
  }

  @Test("Jacobi eigen-decomposition reconstructs the matrix")
  func eigen() {
    var rng = RandomGenerator(seed: 8)
    let n = 12
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in i..<n {
        let v = rng.normal()
        a[i * n + j] = v
        a[j * n + i] = v
      }
    }
    let (values, vectors) = SymmetricEigen.decompose(a, n: n)
    #expect(zip(values, values.dropFirst()).allSatisfy { $0 >= $1 })
    for i in 0..<n {
      for j in 0..<n {
        var s = 0.0
        for k in 0..<n { s += vectors[k * n + i] * values[k] * vectors[k * n + j] }
        #expect(abs(s - a[i * n + j]) < 1e-10)
        var dot = 0.0
        for k in 0..<n { dot += vectors[i * n + k] * vectors[j * n + k] }
        #expect(abs(dot - (i == j ? 1 : 0)) < 1e-12)
      }
    }
  }
}
