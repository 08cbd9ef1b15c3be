import GrapeSupport

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
/// The points are cut into blocks of rows; for each block, SGEMMs give the dot products
/// `x_r · x_c` with every point from the block's first row on (panels of up to 8 blocks), and
/// each panel serves twice: each row r offers `‖x_c‖² − 2x_r·x_c` to
/// r's list and each column c offers `‖x_r‖² − 2x_r·x_c` to c's list (the key of a point's list
/// is the squared distance minus its own squared norm). Exploiting the symmetry halves the GEMM
/// work. Every list is a sorted array of k entries; a vector comparison against the current k-th
/// key rejects most candidates. Candidates reach each list in increasing index order, so equal
/// distances keep the lower index first. GEMMs use OpenBLAS's threads; the row and column scans
/// of a tile run over the cores.
public enum NearestNeighbors {
  /// The `k` nearest other points of every point; `k` is capped at `count − 1`.
  public static func compute(values: [Float], count n: Int, dimension d: Int, k requested: Int)
    -> NeighborLists
  {
    compute(values: values, count: n, dimension: d, k: requested, block: 512)
  }

  /// `compute` with a given block size (tests use small blocks to cover the off-diagonal path).
  static func compute(values: [Float], count n: Int, dimension d: Int, k requested: Int, block: Int)
    -> NeighborLists
  {
    precondition(values.count == n * d && block >= 1)
    let k = max(0, min(requested, n - 1))
    guard k > 0 else {
      return NeighborLists(k: 0, count: n, indices: [], squaredDistances: [])
    }
    var x = LinearAlgebra.centeredFloat(values, rows: n, columns: d)
    // Very large or very small magnitudes are brought near 1 by a power of two: exact, so the
    // neighbours are unchanged, and squared norms can no longer overflow or underflow.
    let largest = x.reduce(Float(0)) { max($0, abs($1)) }
    var exponent = 0
    if largest.isFinite && largest > 0 && (largest > 0x1p40 || largest < 0x1p-40) {
      exponent = Int(largest.exponent)
      let scale = Float(sign: .plus, exponent: -exponent, significand: 1)
      for i in x.indices { x[i] *= scale }
    }
    var norms = [Float](repeating: 0, count: n)
    for i in 0..<n {
      var s = 0.0
      for j in 0..<d { s += Double(x[i * d + j]) * Double(x[i * d + j]) }
      norms[i] = Float(s)
    }
    var bestKey = [Float](repeating: .infinity, count: n * k)
    var bestIndex = [Int32](repeating: -1, count: n * k)
    let t = min(n, block)
    let panelWidth = min(n, 8 * t)
    var tile = [Float](repeating: 0, count: t * panelWidth)
    var r0 = 0
    while r0 < n {
      let rows = min(t, n - r0)
      var c0 = r0
      while c0 < n {
        // A panel of the blocks right of (and including) the diagonal: columns [c0, c0 + cols).
        let cols = min(panelWidth, n - c0)
        tile.withUnsafeMutableBufferPointer { tb in
          x.withUnsafeBufferPointer { xs in
            guard let px = xs.baseAddress, let pt = tb.baseAddress else { return }
            LinearAlgebra.sgemm(
              transA: false, transB: true, m: rows, n: cols, k: d, alpha: 1, px + r0 * d,
              px + c0 * d, beta: 0, pt)
          }
        }
        // Columns of the diagonal block are covered by the row scan; the others by both.
        let columnStart = max(0, r0 + rows - c0)
        let columnCount = max(0, cols - columnStart)
        tile.withUnsafeBufferPointer { tb in
          norms.withUnsafeBufferPointer { nb in
            bestKey.withUnsafeMutableBufferPointer { bk in
              bestIndex.withUnsafeMutableBufferPointer { bx in
                let keys = bk
                let indices = bx
                let parts = min(max(rows, 1), 16)
                // Each part scans a share of the rows and a share of the columns; rows and
                // columns belong to different points, so parts never write the same list.
                ParallelForRows.run(parts, cost: rows * cols * 4 / parts) { part in
                  for r in (rows * part / parts)..<(rows * (part + 1) / parts) {
                    scanRow(
                      tb, row: r, columns: cols, firstRow: r0, firstColumn: c0, norms: nb, k: k,
                      keys: keys, indices: indices, skipSelf: c0 == r0)
                  }
                  let lo = columnStart + columnCount * part / parts
                  let hi = columnStart + columnCount * (part + 1) / parts
                  if lo < hi {
                    scanColumns(
                      tb, rows: rows, columns: cols, columnRange: lo..<hi, firstRow: r0,
                      firstColumn: c0, norms: nb, k: k, keys: keys, indices: indices)
                  }
                }
              }
            }
          }
        }
        c0 += cols
      }
      r0 += rows
    }
    // Keys are squared distances minus the point's own squared norm.
    let unscale = Float(sign: .plus, exponent: 2 * exponent, significand: 1)
    for i in 0..<n {
      for j in 0..<k { bestKey[i * k + j] = max(0, bestKey[i * k + j] + norms[i]) * unscale }
    }
    return NeighborLists(k: k, count: n, indices: bestIndex, squaredDistances: bestKey)
  }

  /// Inserts `(key, index)` into the sorted list at `slot` (after entries with key ≤ `key`).
  @inline(__always)
  private static func insert(
    _ key: Float, _ index: Int, slot: Int, k: Int, keys: UnsafeMutableBufferPointer<Float>,
    indices: UnsafeMutableBufferPointer<Int32>
  ) {
    var p = k - 1
    while p > 0 && keys[slot + p - 1] > key {
      keys[slot + p] = keys[slot + p - 1]
      indices[slot + p] = indices[slot + p - 1]
      p -= 1
    }
    keys[slot + p] = key
    indices[slot + p] = Int32(index)
  }

  /// Offers row `row` of the tile (`‖x_c‖² − 2x_r·x_c` for every column) to the row's list.
  @inline(__always)
  private static func scanRow(
    _ tile: UnsafeBufferPointer<Float>, row r: Int, columns: Int, firstRow: Int, firstColumn: Int,
    norms: UnsafeBufferPointer<Float>, k: Int, keys: UnsafeMutableBufferPointer<Float>,
    indices: UnsafeMutableBufferPointer<Int32>, skipSelf: Bool
  ) {
    let i = firstRow + r
    let slot = i * k
    var worst = keys[slot + k - 1]
    let base = r * columns
    var c = 0
    while c + 8 <= columns {
      let g = SIMD8<Float>(
        tile[base + c], tile[base + c + 1], tile[base + c + 2], tile[base + c + 3],
        tile[base + c + 4], tile[base + c + 5], tile[base + c + 6], tile[base + c + 7])
      let nn = SIMD8<Float>(
        norms[firstColumn + c], norms[firstColumn + c + 1], norms[firstColumn + c + 2],
        norms[firstColumn + c + 3], norms[firstColumn + c + 4], norms[firstColumn + c + 5],
        norms[firstColumn + c + 6], norms[firstColumn + c + 7])
      let v = nn - 2 * g
      if any(v .< SIMD8<Float>(repeating: worst)) {
        for lane in 0..<8 {
          let j = firstColumn + c + lane
          if v[lane] < worst && !(skipSelf && j == i) {
            insert(v[lane], j, slot: slot, k: k, keys: keys, indices: indices)
            worst = keys[slot + k - 1]
          }
        }
      }
      c += 8
    }
    while c < columns {
      let j = firstColumn + c
      let v = norms[j] - 2 * tile[base + c]
      if v < worst && !(skipSelf && j == i) {
        insert(v, j, slot: slot, k: k, keys: keys, indices: indices)
        worst = keys[slot + k - 1]
      }
      c += 1
    }
  }

  /// Offers every row of the tile to the lists of the columns in `columnRange`
  /// (`‖x_r‖² − 2x_r·x_c`), row by row so that candidates arrive in increasing index order.
  @inline(__always)
  private static func scanColumns(
    _ tile: UnsafeBufferPointer<Float>, rows: Int, columns: Int, columnRange: Range<Int>,
    firstRow: Int, firstColumn: Int, norms: UnsafeBufferPointer<Float>, k: Int,
    keys: UnsafeMutableBufferPointer<Float>, indices: UnsafeMutableBufferPointer<Int32>
  ) {
    var worst = [Float](repeating: 0, count: columnRange.count)
    for (o, c) in columnRange.enumerated() { worst[o] = keys[(firstColumn + c) * k + k - 1] }
    worst.withUnsafeMutableBufferPointer { w in
      for r in 0..<rows {
        let nr = norms[firstRow + r]
        let base = r * columns
        var c = columnRange.lowerBound
        while c + 8 <= columnRange.upperBound {
          let o = c - columnRange.lowerBound
          let g = SIMD8<Float>(
            tile[base + c], tile[base + c + 1], tile[base + c + 2], tile[base + c + 3],
            tile[base + c + 4], tile[base + c + 5], tile[base + c + 6], tile[base + c + 7])
          let thresholds = SIMD8<Float>(
            w[o], w[o + 1], w[o + 2], w[o + 3], w[o + 4], w[o + 5], w[o + 6], w[o + 7])
          let v = SIMD8<Float>(repeating: nr) - 2 * g
          if any(v .< thresholds) {
            for lane in 0..<8 where v[lane] < w[o + lane] {
              let slot = (firstColumn + c + lane) * k
              insert(v[lane], firstRow + r, slot: slot, k: k, keys: keys, indices: indices)
              w[o + lane] = keys[slot + k - 1]
            }
          }
          c += 8
        }
        while c < columnRange.upperBound {
          let o = c - columnRange.lowerBound
          let v = nr - 2 * tile[base + c]
          if v < w[o] {
            let slot = (firstColumn + c) * k
            insert(v, firstRow + r, slot: slot, k: k, keys: keys, indices: indices)
            w[o] = keys[slot + k - 1]
          }
          c += 1
        }
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
