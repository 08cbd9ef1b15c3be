import TensorCore

/// The k nearest other points of every point (Euclidean), brute force.
///
/// Each row lists neighbours by increasing distance, ties by lower index; a point is never its
/// own neighbour (leave-one-out, like scikit-learn's `kneighbors(None)`).
public struct NeighborLists: Sendable, Equatable {
  /// Neighbours per point.
  public let k: Int
  /// Number of points.
  public let count: Int
  /// Row-major `[count, k]` neighbour indices.
  public let indices: [Int32]
  /// Row-major `[count, k]` squared distances (single precision).
  public let squaredDistances: [Float]

  /// The neighbours of point `i`, nearest first.
  public func neighbors(of i: Int) -> ArraySlice<Int32> { indices[(i * k)..<((i + 1) * k)] }
}

/// Brute-force k-nearest-neighbour search over OpenBLAS.
///
/// Distances of a block of rows against a block of columns come from one SGEMM on the centred
/// data (`‖y‖² − 2x·y`, the row's own `‖x‖²` being constant); each row keeps its k best in a sorted
/// list and rejects most columns with a single comparison. The row scans run over the cores
/// between GEMMs, which use OpenBLAS's own threads.
public enum NearestNeighbors {
  /// The `k` nearest other points of every point; `k` is capped at `count − 1`.
  public static func compute(values: [Float], count n: Int, dimension d: Int, k requested: Int)
    -> NeighborLists
  {
    precondition(values.count == n * d)
    let k = max(0, min(requested, n - 1))
    guard k > 0 else {
      return NeighborLists(k: 0, count: n, indices: [], squaredDistances: [])
    }
    let x = LinearAlgebra.centeredFloat(values, rows: n, columns: d)
    var norms = [Float](repeating: 0, count: n)
    for i in 0..<n {
      var s = 0.0
      for j in 0..<d { s += Double(x[i * d + j]) * Double(x[i * d + j]) }
      norms[i] = Float(s)
    }
    var bestValue = [Float](repeating: .infinity, count: n * k)
    var bestIndex = [Int32](repeating: -1, count: n * k)
    let rowBlock = min(n, 512)
    let columnBlock = min(n, 4_096)
    var tile = [Float](repeating: 0, count: rowBlock * columnBlock)
    var r0 = 0
    while r0 < n {
      let rows = min(rowBlock, n - r0)
      var c0 = 0
      while c0 < n {
        let cols = min(columnBlock, n - c0)
        // tile[r][c] = ‖x_c‖² − 2 x_r · x_c
        tile.withUnsafeMutableBufferPointer { t in
          for r in 0..<rows {
            for c in 0..<cols { t[r * cols + c] = norms[c0 + c] }
          }
          x.withUnsafeBufferPointer { xs in
            guard let px = xs.baseAddress, let pt = t.baseAddress else { return }
            LinearAlgebra.sgemm(
              transA: false, transB: true, m: rows, n: cols, k: d, alpha: -2, px + r0 * d,
              px + c0 * d, beta: 1, pt)
          }
        }
        tile.withUnsafeBufferPointer { t in
          bestValue.withUnsafeMutableBufferPointer { bv in
            bestIndex.withUnsafeMutableBufferPointer { bi in
              let values = bv
              let indices = bi
              ParallelForRows.run(rows, cost: cols) { r in
                scanRow(
                  t, offset: r * cols, count: cols, firstColumn: c0, selfIndex: r0 + r, k: k,
                  best: values, bestIndex: indices, slot: (r0 + r) * k)
              }
            }
          }
        }
        c0 += cols
      }
      r0 += rows
    }
    // Turn ‖y‖² − 2x·y into ‖x − y‖².
    for i in 0..<n {
      for j in 0..<k { bestValue[i * k + j] = max(0, bestValue[i * k + j] + norms[i]) }
    }
    return NeighborLists(k: k, count: n, indices: bestIndex, squaredDistances: bestValue)
  }

  /// Merges one tile row into the sorted k-best list of its point.
  @inline(__always)
  private static func scanRow(
    _ t: UnsafeBufferPointer<Float>, offset: Int, count: Int, firstColumn: Int, selfIndex: Int,
    k: Int, best: UnsafeMutableBufferPointer<Float>, bestIndex: UnsafeMutableBufferPointer<Int32>,
    slot: Int
  ) {
    var worst = best[slot + k - 1]
    var c = 0
    while c < count {
      // Fast rejection of 8 columns at a time.
      if c + 8 <= count {
        let v = SIMD8<Float>(
          t[offset + c], t[offset + c + 1], t[offset + c + 2], t[offset + c + 3],
          t[offset + c + 4], t[offset + c + 5], t[offset + c + 6], t[offset + c + 7])
        if !any(v .< SIMD8<Float>(repeating: worst)) {
          c += 8
          continue
        }
      }
      let end = min(c + 8, count)
      while c < end {
        let v = t[offset + c]
        let j = firstColumn + c
        if v < worst && j != selfIndex {
          // Insert after every entry with value ≤ v (ties keep the lower index first).
          var p = k - 1
          while p > 0 && best[slot + p - 1] > v {
            best[slot + p] = best[slot + p - 1]
            bestIndex[slot + p] = bestIndex[slot + p - 1]
            p -= 1
          }
          best[slot + p] = v
          bestIndex[slot + p] = Int32(j)
          worst = best[slot + k - 1]
        }
        c += 1
      }
    }
  }
}

/// Runs a per-row body over the cores (rows are independent and write disjoint memory).
enum ParallelForRows {
  static func run(_ rows: Int, cost: Int, _ body: (Int) -> Void) {
    Parallel.forEach(rows, costPerItem: cost) { range in
      for r in range { body(r) }
    }
  }
}
