import GrapeSupport
import Foundation
import TensorCore
import Testing

@testable import Evaluation

@Suite("Projections")
struct ProjectionTests {
  /// `groups` blobs of `per` points in `d` dimensions, centres `spread` apart.
  static func blobs(groups: Int, per: Int, d: Int, spread: Double, seed: UInt64) -> ([Float], [Int])
  {
    var rng = RandomGenerator(seed: seed)
    let centres = (0..<(groups * d)).map { _ in rng.normal() * spread }
    var values: [Float] = []
    var labels: [Int] = []
    for g in 0..<groups {
      for _ in 0..<per {
        labels.append(g)
        for j in 0..<d { values.append(Float(centres[g * d + j] + rng.normal())) }
      }
    }
    return (values, labels)
  }

  @Test("t-SNE keeps blobs apart: every point's 2-D nearest neighbour is in its blob")
  func tsneBlobs() {
    let (v, labels) = Self.blobs(groups: 4, per: 15, d: 10, spread: 6, seed: 1)
    let n = labels.count
    let y = TSNE(perplexity: 10, iterations: 400, exaggerationIterations: 100).embed(
      values: v, count: n, dimension: 10)
    #expect(y.count == n * 2 && y.allSatisfy(\.isFinite))
    var agree = 0
    for i in 0..<n {
      var best = -1
      var bestD = Double.infinity
      for j in 0..<n where j != i {
        let d = pow(y[i * 2] - y[j * 2], 2) + pow(y[i * 2 + 1] - y[j * 2 + 1], 2)
        if d < bestD {
          bestD = d
          best = j
        }
      }
      if labels[best] == labels[i] { agree += 1 }
    }
    #expect(agree == n)
    let again = TSNE(perplexity: 10, iterations: 400, exaggerationIterations: 100).embed(
      values: v, count: n, dimension: 10)
    #expect(again == y)
  }

  @Test("t-SNE conditional distributions reach the target perplexity")
  func perplexity() {
    let (v, _) = Self.blobs(groups: 3, per: 12, d: 5, spread: 3, seed: 2)
    let n = 36
    let tsne = TSNE(perplexity: 8)
    let p = tsne.jointProbabilities(values: v, count: n, dimension: 5)
    var total = 0.0
    for i in 0..<n {
      #expect(p[i * n + i] == 0)
      for j in 0..<n {
        total += p[i * n + j]
        #expect(p[i * n + j] == p[j * n + i])
      }
    }
    #expect(abs(total - 1) < 1e-9)
    // Rebuild one conditional row with the same search and check its perplexity.
    let row = tsne.conditionalRow(values: v, count: n, dimension: 5, point: 0)
    let entropy = -row.enumerated().reduce(0.0) { acc, e in
      e.element > 0 ? acc + e.element * log(e.element) : acc
    }
    #expect(abs(exp(entropy) - 8) < 1e-3)
  }

  @Test("tiny inputs do not crash the projections")
  func tiny() {
    #expect(TSNE().embed(values: [1, 2], count: 2, dimension: 1) == [0, 0, 0, 0])
    let pca = PCA.fit(values: [1, 2, 3, 4], count: 1, dimension: 4, components: 2)
    #expect(pca.componentCount == 1 && pca.explainedVariance == [0])
  }
}
