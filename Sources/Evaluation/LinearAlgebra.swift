import CBLAS

/// Dense row-major helpers over OpenBLAS used by the metrics.
enum LinearAlgebra {
  /// Row-major `C = alpha · op(A) · op(B) + beta · C` in double precision (packed leading
  /// dimensions unless given).
  static func dgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
    _ a: UnsafePointer<Double>, lda: Int? = nil, _ b: UnsafePointer<Double>, ldb: Int? = nil,
    beta: Double, _ c: UnsafeMutablePointer<Double>, ldc: Int? = nil
  ) {
    if m == 0 || n == 0 { return }
    let la = lda ?? (transA ? m : k)
    let lb = ldb ?? (transB ? k : n)
    let lc = ldc ?? n
    if k == 0 {
      for i in 0..<m { for j in 0..<n { c[i * lc + j] *= beta } }
      return
    }
    cblas_dgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(la), b, Int32(lb), beta, c, Int32(lc))
  }

  /// Row-major `C = alpha · op(A) · op(B) + beta · C` in single precision.
  static func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    _ a: UnsafePointer<Float>, lda: Int? = nil, _ b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int? = nil
  ) {
    if m == 0 || n == 0 { return }
    let la = lda ?? (transA ? m : k)
    let lb = ldb ?? (transB ? k : n)
    let lc = ldc ?? n
    if k == 0 {
      for i in 0..<m { for j in 0..<n { c[i * lc + j] *= beta } }
      return
    }
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(la), b, Int32(lb), beta, c, Int32(lc))
  }

  /// `y = A · x` for a row-major `[rows, columns]` double matrix.
  static func dgemv(
    rows: Int, columns: Int, _ a: UnsafePointer<Double>, _ x: UnsafePointer<Double>,
    into y: UnsafeMutablePointer<Double>
  ) {
    if rows == 0 { return }
    if columns == 0 {
      y.update(repeating: 0, count: rows)
      return
    }
    cblas_dgemv(
      CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, a, Int32(columns), x, 1, 0, y, 1)
  }

  /// Column means of a row-major `[n, d]` float matrix, accumulated in double precision.
  static func columnMeans(_ x: [Float], rows n: Int, columns d: Int) -> [Double] {
    var mean = [Double](repeating: 0, count: d)
    guard n > 0 else { return mean }
    x.withUnsafeBufferPointer { v in
      for i in 0..<n {
        let o = i * d
        for j in 0..<d { mean[j] += Double(v[o + j]) }
      }
    }
    for j in 0..<d { mean[j] /= Double(n) }
    return mean
  }

  /// The matrix with its column means subtracted, in double precision.
  static func centeredDouble(_ x: [Float], rows n: Int, columns d: Int) -> [Double] {
    let mean = columnMeans(x, rows: n, columns: d)
    var out = [Double](repeating: 0, count: n * d)
    x.withUnsafeBufferPointer { v in
      out.withUnsafeMutableBufferPointer { o in
        for i in 0..<n {
          let r = i * d
          for j in 0..<d { o[r + j] = Double(v[r + j]) - mean[j] }
        }
      }
    }
    return out
  }

  /// The matrix with its column means subtracted, in single precision.
  static func centeredFloat(_ x: [Float], rows n: Int, columns d: Int) -> [Float] {
    let mean = columnMeans(x, rows: n, columns: d)
    var out = [Float](repeating: 0, count: n * d)
    x.withUnsafeBufferPointer { v in
      out.withUnsafeMutableBufferPointer { o in
        for i in 0..<n {
          let r = i * d
          for j in 0..<d { o[r + j] = Float(Double(v[r + j]) - mean[j]) }
        }
      }
    }
    return out
  }

  /// Mean over columns of the population variance of each column (`np.var(X, axis=0).mean()`).
  static func meanColumnVariance(_ x: [Float], rows n: Int, columns d: Int) -> Double {
    guard n > 0, d > 0 else { return 0 }
    let mean = columnMeans(x, rows: n, columns: d)
    var total = 0.0
    x.withUnsafeBufferPointer { v in
      for i in 0..<n {
        let r = i * d
        for j in 0..<d {
          let e = Double(v[r + j]) - mean[j]
          total += e * e
        }
      }
    }
    return total / Double(n) / Double(d)
  }

  /// The Gram matrix `X Xᵀ` of a row-major `[n, d]` double matrix (symmetric, `[n, n]`).
  static func gram(_ x: [Double], rows n: Int, columns d: Int) -> [Double] {
    var g = [Double](repeating: 0, count: n * n)
    x.withUnsafeBufferPointer { a in
      g.withUnsafeMutableBufferPointer { c in
        guard let pa = a.baseAddress, let pc = c.baseAddress else { return }
        dgemm(transA: false, transB: true, m: n, n: n, k: d, alpha: 1, pa, pa, beta: 0, pc)
      }
    }
    // Make it exactly symmetric (GEMM blocking may round the two triangles differently).
    for i in 0..<n {
      for j in (i + 1)..<max(i + 1, n) {
        let v = 0.5 * (g[i * n + j] + g[j * n + i])
        g[i * n + j] = v
        g[j * n + i] = v
      }
    }
    return g
  }
}
