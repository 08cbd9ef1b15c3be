/// Data prepared once for many k-means runs: centred in double precision, with either its Gram
/// matrix (small n: every distance is then an O(1) lookup and a Lloyd iteration costs O(n²)
/// instead of O(n·k·d)) or the centred rows themselves (large n).
///
/// Centring changes no distance; scikit-learn centres the data the same way before k-means.
public final class KMeansData: Sendable {
  /// How distances are evaluated.
  public enum Strategy: Sendable, Equatable {
    /// Gram matrix when `n ≤ gramLimit`, rows otherwise.
    case automatic
    /// Always the n × n Gram matrix.
    case gram
    /// Always explicit centres in feature space (GEMMs against the centred rows).
    case features
  }

  /// Largest n for which `.automatic` uses the Gram matrix (n² doubles ≈ 134 MB at 4,096).
  public static let gramLimit = 4_096

  /// Number of points.
  public let count: Int
  /// Number of features.
  public let dimension: Int
  /// Centred rows, row-major `[count, dimension]` (kept for the feature path and for centres).
  let centered: [Double]
  /// Column means removed by centring.
  let mean: [Double]
  /// Gram matrix of the centred rows, `[count, count]`, or empty on the feature path.
  let gram: [Double]
  /// Squared norms of the centred rows.
  let norms: [Double]
  /// `np.var(X, axis=0).mean()`, the scale of scikit-learn's relative tolerance.
  public let meanVariance: Double

  /// Whether Lloyd iterations use the Gram matrix.
  public var usesGram: Bool { !gram.isEmpty }

  /// Prepares row-major `[count, dimension]` data.
  public init(values: [Float], count: Int, dimension: Int, strategy: Strategy = .automatic) {
    precondition(values.count == count * dimension, "KMeansData: values do not match the shape")
    self.count = count
    self.dimension = dimension
    let x = LinearAlgebra.centeredDouble(values, rows: count, columns: dimension)
    self.mean = LinearAlgebra.columnMeans(values, rows: count, columns: dimension)
    self.centered = x
    let useGram: Bool
    switch strategy {
    case .automatic: useGram = count <= KMeansData.gramLimit
    case .gram: useGram = true
    case .features: useGram = false
    }
    if useGram {
      let g = LinearAlgebra.gram(x, rows: count, columns: dimension)
      self.gram = g
      self.norms = (0..<count).map { g[$0 * count + $0] }
    } else {
      self.gram = []
      self.norms = (0..<count).map { i in
        var s = 0.0
        for j in 0..<dimension { s += x[i * dimension + j] * x[i * dimension + j] }
        return s
      }
    }
    var v = 0.0
    for i in 0..<(count * dimension) { v += x[i] * x[i] }
    self.meanVariance = count > 0 && dimension > 0 ? v / Double(count) / Double(dimension) : 0
  }

  /// Squared Euclidean distances from point `i` to every point, written into `out` (clamped at 0,
  /// exactly 0 for the point itself).
  func squaredDistances(from i: Int, into out: inout [Double]) {
    let n = count
    if usesGram {
      gram.withUnsafeBufferPointer { g in
        let ni = norms[i]
        for x in 0..<n { out[x] = max(0, ni + norms[x] - 2 * g[i * n + x]) }
      }
    } else {
      // ‖x‖² + ‖x_i‖² − 2 x·x_i with one DGEMV (as scikit-learn's euclidean_distances).
      let d = dimension
      centered.withUnsafeBufferPointer { c in
        out.withUnsafeMutableBufferPointer { o in
          guard let pc = c.baseAddress, let po = o.baseAddress else { return }
          LinearAlgebra.dgemv(rows: n, columns: d, pc, pc + i * d, into: po)
        }
      }
      let ni = norms[i]
      for x in 0..<n { out[x] = max(0, ni + norms[x] - 2 * out[x]) }
    }
    out[i] = 0
  }

  /// `out[x] = min(closest[x], ‖x_i − x_x‖²)` for every point (0 for `i` itself); returns the sum
  /// (the potential if `i` became a centre).
  func minSquaredDistances(
    from i: Int, closest: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) -> Double {
    let n = count
    var total = 0.0
    if usesGram {
      gram.withUnsafeBufferPointer { g in
        norms.withUnsafeBufferPointer { nb in
          let ni = nb[i]
          let row = i * n
          for x in 0..<n {
            let v = min(closest[x], max(0, ni + nb[x] - 2 * g[row + x]))
            out[x] = v
            total += v
          }
        }
      }
      total -= out[i]
      out[i] = 0
    } else {
      var d = [Double](repeating: 0, count: n)
      squaredDistances(from: i, into: &d)
      for x in 0..<n {
        let v = min(closest[x], d[x])
        out[x] = v
        total += v
      }
    }
    return total
  }

  /// The mean of the given rows in original coordinates.
  func centroid(of members: [Int]) -> [Double] {
    let d = dimension
    var c = [Double](repeating: 0, count: d)
    guard !members.isEmpty else { return mean }
    for m in members { for j in 0..<d { c[j] += centered[m * d + j] } }
    let inv = 1 / Double(members.count)
    for j in 0..<d { c[j] = c[j] * inv + mean[j] }
    return c
  }
}
