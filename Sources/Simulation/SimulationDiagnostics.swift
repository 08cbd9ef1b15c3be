import Foundation
import OPSData

/// How strongly a simulated screen's simple image statistics reveal batch and gene.
///
/// Features are the per-cell mean and standard deviation of each channel (8 numbers for 4
/// channels). Classifiers are nearest-centroid on features standardised over all cells, scored by
/// two-fold cross-validation (cells with even index train, odd test, and the reverse).
public struct SeparabilityReport: Sendable, Codable, Equatable {
  /// Number of cells.
  public var cells: Int
  /// Accuracy of predicting each cell's batch from its features.
  public var batchAccuracy: Double
  /// Accuracy of always guessing the most common batch.
  public var batchChance: Double
  /// Accuracy of predicting each cell's gene (all genes, control included).
  public var geneAccuracy: Double
  /// Accuracy of always guessing the most common gene.
  public var geneChance: Double
  /// Accuracy of predicting each cell's gene when features are first standardised on the control
  /// cells of the cell's own batch (a simple batch correction).
  public var geneAccuracyCorrected: Double
  /// Complex mAP (the CORUM metric) of per-gene mean features, after per-batch control
  /// standardisation.
  public var featureMAP: Double
  /// Complex mAP of per-gene mean features without batch correction.
  public var featureMAPUncorrected: Double
  /// Complex mAP of the true phenotype vectors (the ceiling).
  public var truthMAP: Double
  /// Expected complex mAP of a random ranking (the floor), averaged over 200 permutations.
  public var randomMAP: Double
}

extension ScreenSimulator {
  /// Number of features per cell used by `measureSeparability`: mean and standard deviation of
  /// each channel.
  public var intensityFeatureCount: Int { 2 * channelCount }

  /// The per-cell intensity features of a chunk: for each cell, the mean of every channel, then
  /// the standard deviation of every channel, [count, 2C].
  public static func intensityFeatures(_ chunk: SimulatedChunk) -> [Float] {
    let area = chunk.height * chunk.width
    var out = [Float](repeating: 0, count: chunk.count * 2 * chunk.channels)
    for i in 0..<chunk.count {
      for c in 0..<chunk.channels {
        let base = i * chunk.cellStride + c * area
        var sum = 0.0
        var sum2 = 0.0
        for k in 0..<area {
          let v = Double(chunk.pixels[base + k])
          sum += v
          sum2 += v * v
        }
        let mean = sum / Double(area)
        let variance = max(0, sum2 / Double(area) - mean * mean)
        out[i * 2 * chunk.channels + c] = Float(mean)
        out[i * 2 * chunk.channels + chunk.channels + c] = Float(variance.squareRoot())
      }
    }
    return out
  }

  /// Renders the screen and measures how well simple intensity features separate batches and
  /// genes (see `SeparabilityReport`). Memory: 8 floats per cell.
  public func measureSeparability(
    chunkSize: Int = 512, threads: Int = ScreenSimulator.defaultThreads
  ) throws -> SeparabilityReport {
    struct FeatureSink: SimulationSink {
      var features: [Float] = []
      var gene: [Int32] = []
      var batch: [Int32] = []
      mutating func write(chunk: SimulatedChunk) throws {
        features += ScreenSimulator.intensityFeatures(chunk)
        gene += chunk.gene
        batch += chunk.batch
      }
    }
    var sink = FeatureSink()
    try run(into: &sink, chunkSize: chunkSize, threads: threads)
    return separability(
      features: sink.features, gene: sink.gene.map(Int.init), batch: sink.batch.map(Int.init))
  }

  /// The separability measures for given per-cell features, [N, F] row-major.
  public func separability(features: [Float], gene: [Int], batch: [Int]) -> SeparabilityReport {
    let n = gene.count
    let f = n > 0 ? features.count / n : 0
    let x = features.map(Double.init)
    let standardised = Diagnostics.standardise(x, rows: n, cols: f)
    let batchAccuracy = Diagnostics.nearestCentroidAccuracy(
      standardised, rows: n, cols: f, labels: batch, classes: config.batchCount)
    let geneAccuracy = Diagnostics.nearestCentroidAccuracy(
      standardised, rows: n, cols: f, labels: gene, classes: geneCount)
    // Per-batch standardisation on that batch's control cells.
    var corrected = x
    for b in 0..<config.batchCount {
      let controls = (0..<n).filter { batch[$0] == b && gene[$0] == controlIndex }
      let members = (0..<n).filter { batch[$0] == b }
      guard !controls.isEmpty else { continue }
      for j in 0..<f {
        let values = controls.map { x[$0 * f + j] }
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = max(
          1e-9,
          (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count))
            .squareRoot())
        for i in members { corrected[i * f + j] = (x[i * f + j] - mean) / sd }
      }
    }
    let geneAccuracyCorrected = Diagnostics.nearestCentroidAccuracy(
      corrected, rows: n, cols: f, labels: gene, classes: geneCount)
    func geneMeans(_ values: [Double]) -> [Double] {
      var sums = [Double](repeating: 0, count: geneCount * f)
      var counts = [Double](repeating: 0, count: geneCount)
      for i in 0..<n {
        counts[gene[i]] += 1
        for j in 0..<f { sums[gene[i] * f + j] += values[i * f + j] }
      }
      for g in 0..<geneCount where counts[g] > 0 {
        for j in 0..<f { sums[g * f + j] /= counts[g] }
      }
      return sums
    }
    let complexOf = truth.complexOfGene.map(Int.init)
    // Uncorrected profiles are compared after removing the control profile.
    var uncorrected = geneMeans(standardised)
    let control = Array(uncorrected[(controlIndex * f)..<((controlIndex + 1) * f)])
    for g in 0..<geneCount { for j in 0..<f { uncorrected[g * f + j] -= control[j] } }
    let p = truth.parameterCount
    var rng = SeedMixer.generator(config.seed, .preview, 1)
    var randomTotal = 0.0
    let members = complexOf.filter { $0 >= 0 }
    for _ in 0..<200 {
      var shuffled = members
      rng.shuffle(&shuffled)
      randomTotal += Diagnostics.rankingMAP(order: shuffled)
    }
    let cellsPerBatch = (0..<config.batchCount).map { b in batch.filter { $0 == b }.count }
    let cellsPerGene = (0..<geneCount).map { g in gene.filter { $0 == g }.count }
    return SeparabilityReport(
      cells: n, batchAccuracy: batchAccuracy,
      batchChance: Double(cellsPerBatch.max() ?? 0) / Double(max(1, n)),
      geneAccuracy: geneAccuracy,
      geneChance: Double(cellsPerGene.max() ?? 0) / Double(max(1, n)),
      geneAccuracyCorrected: geneAccuracyCorrected,
      featureMAP: Diagnostics.complexMAP(geneMeans(corrected), cols: f, complexOf: complexOf),
      featureMAPUncorrected: Diagnostics.complexMAP(uncorrected, cols: f, complexOf: complexOf),
      truthMAP: Diagnostics.complexMAP(
        truth.genePhenotypes.map(Double.init), cols: p, complexOf: complexOf),
      randomMAP: randomTotal / 200)
  }
}

/// Small statistics used by the simulator's self-checks.
enum Diagnostics {
  /// Columns standardised to mean 0 and standard deviation 1 over all rows.
  static func standardise(_ x: [Double], rows n: Int, cols f: Int) -> [Double] {
    var out = x
    for j in 0..<f {
      var mean = 0.0
      for i in 0..<n { mean += x[i * f + j] }
      mean /= Double(max(1, n))
      var variance = 0.0
      for i in 0..<n { variance += (x[i * f + j] - mean) * (x[i * f + j] - mean) }
      let sd = max(1e-9, (variance / Double(max(1, n))).squareRoot())
      for i in 0..<n { out[i * f + j] = (x[i * f + j] - mean) / sd }
    }
    return out
  }

  /// Two-fold cross-validated accuracy of a nearest-centroid classifier (Euclidean distance).
  static func nearestCentroidAccuracy(
    _ x: [Double], rows n: Int, cols f: Int, labels: [Int], classes: Int
  ) -> Double {
    guard n > 1, f > 0, classes > 0 else { return 0 }
    var correct = 0
    var tested = 0
    for fold in 0..<2 {
      var centroids = [Double](repeating: 0, count: classes * f)
      var counts = [Double](repeating: 0, count: classes)
      for i in 0..<n where i % 2 == fold {
        counts[labels[i]] += 1
        for j in 0..<f { centroids[labels[i] * f + j] += x[i * f + j] }
      }
      let present = (0..<classes).filter { counts[$0] > 0 }
      for k in present { for j in 0..<f { centroids[k * f + j] /= counts[k] } }
      for i in 0..<n where i % 2 != fold {
        var best = -1
        var bestDistance = Double.infinity
        for k in present {
          var d = 0.0
          for j in 0..<f {
            let e = x[i * f + j] - centroids[k * f + j]
            d += e * e
          }
          if d < bestDistance {
            bestDistance = d
            best = k
          }
        }
        tested += 1
        if best == labels[i] { correct += 1 }
      }
    }
    return Double(correct) / Double(max(1, tested))
  }

  /// Complex mAP of row vectors: each gene in a complex queries every other complex gene by
  /// cosine similarity; a hit is a gene of the same complex; AP averages precision at hit ranks.
  static func complexMAP(_ x: [Double], cols f: Int, complexOf: [Int]) -> Double {
    let genes = complexOf.indices.filter { complexOf[$0] >= 0 }
    let norms = genes.map { g in
      max(1e-12, (0..<f).reduce(0.0) { $0 + x[g * f + $1] * x[g * f + $1] }.squareRoot())
    }
    var total = 0.0
    var queries = 0
    for (qi, q) in genes.enumerated() {
      var scored: [(Double, Int)] = []
      for (oi, o) in genes.enumerated() where oi != qi {
        var dot = 0.0
        for j in 0..<f { dot += x[q * f + j] * x[o * f + j] }
        scored.append((dot / (norms[qi] * norms[oi]), complexOf[o]))
      }
      scored.sort { $0.0 > $1.0 }
      let ap = averagePrecision(scored.map { $0.1 == complexOf[q] })
      if let ap {
        total += ap
        queries += 1
      }
    }
    return queries > 0 ? total / Double(queries) : 0
  }

  /// Complex mAP when every query sees the other genes in the order given by `order` (a random
  /// permutation of complex labels), for the random baseline.
  static func rankingMAP(order: [Int]) -> Double {
    var total = 0.0
    var queries = 0
    for q in order.indices {
      var hits: [Bool] = []
      for o in order.indices where o != q { hits.append(order[o] == order[q]) }
      if let ap = averagePrecision(hits) {
        total += ap
        queries += 1
      }
    }
    return queries > 0 ? total / Double(queries) : 0
  }

  /// Mean of precision at each hit's rank; nil when there is no hit.
  static func averagePrecision(_ hits: [Bool]) -> Double? {
    var found = 0
    var sum = 0.0
    for (rank, hit) in hits.enumerated() where hit {
      found += 1
      sum += Double(found) / Double(rank + 1)
    }
    return found > 0 ? sum / Double(found) : nil
  }
}
