import GrapeSupport
import Foundation

/// Deterministic benchmark inputs that `scripts/reference/eval_bench_sklearn.py` rebuilds
/// bit for bit in NumPy, so both sides time the same data.
///
/// Every number is a counter-based hash: `u(stream, i)` is SplitMix64 of
/// `stream · 0x9E3779B97F4A7C15 + i`, top 53 bits scaled to [0, 1); normals use Box–Muller on
/// `u(stream, 2i)` and `u(stream, 2i + 1)`: `√(−2 ln(1 − u₁)) · cos(2π u₂)`.
public enum BenchmarkData {
  /// SplitMix64's output function applied to `x`.
  @inline(__always)
  static func splitmix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1) for counter `i` of `stream`.
  @inline(__always)
  static func uniform(_ stream: UInt64, _ i: UInt64) -> Double {
    Double(splitmix(stream &* 0x9E37_79B9_7F4A_7C15 &+ i) >> 11) * (1.0 / 9_007_199_254_740_992.0)
  }

  /// Standard normal for counter `i` of `stream`.
  @inline(__always)
  static func normal(_ stream: UInt64, _ i: Int) -> Double {
    let u1 = uniform(stream, UInt64(2 * i))
    let u2 = uniform(stream, UInt64(2 * i + 1))
    return (-2 * log(1 - u1)).squareRoot() * cos(2 * Double.pi * u2)
  }

  /// The k-means benchmark: `genes × dimension` rows in `clusters` groups (gene g in group
  /// g mod clusters), row = 0.3 · centre + N(0, 1).
  public static func embedding(genes: Int = 105, dimension: Int = 500, clusters: Int = 14) -> (
    values: [Float], labels: [Int]
  ) {
    let labels = (0..<genes).map { $0 % clusters }
    var values = [Float](repeating: 0, count: genes * dimension)
    for g in 0..<genes {
      for j in 0..<dimension {
        let centre = normal(1, labels[g] * dimension + j)
        values[g * dimension + j] = Float(0.3 * centre + normal(2, g * dimension + j))
      }
    }
    return (values, labels)
  }

  /// The batch-metric benchmark: `cells × dimension` codes; cell i has gene i mod genes and batch
  /// (i / genes) mod batches; code = gene mean N(0, 1) + 0.5 · batch shift N(0, 1) + N(0, 1).
  public static func cells(
    cells n: Int = 100_000, dimension d: Int = 64, genes: Int = 105, batches: Int = 4
  )
    -> (values: [Float], genes: [Int], batches: [Int])
  {
    let geneOf = (0..<n).map { $0 % genes }
    let batchOf = (0..<n).map { ($0 / genes) % batches }
    let means = (0..<(genes * d)).map { normal(3, $0) }
    let shifts = (0..<(batches * d)).map { 0.5 * normal(4, $0) }
    var values = [Float](repeating: 0, count: n * d)
    values.withUnsafeMutableBufferPointer { buffer in
      let v = buffer
      ParallelForRows.run(n, cost: d * 40) { i in
        let g = geneOf[i]
        let b = batchOf[i]
        for j in 0..<d {
          v[i * d + j] = Float(means[g * d + j] + shifts[b * d + j] + normal(5, i * d + j))
        }
      }
    }
    return (values, geneOf, batchOf)
  }
}
