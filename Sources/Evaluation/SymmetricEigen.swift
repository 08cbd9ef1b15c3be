/// Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method.
///
/// Each rotation zeroes one off-diagonal pair (Golub & Van Loan, *Matrix Computations*, §8.5,
/// `sym.schur2`); sweeps repeat until the off-diagonal mass is negligible against the diagonal.
/// Accurate to a few ulps for the small matrices it serves here (covariances of up to a few
/// hundred features, Gram matrices of a few hundred genes); cost about 3n³ per sweep.
enum SymmetricEigen {
  /// Eigenvalues in decreasing order and their unit eigenvectors as rows
  /// (`vectors[i * n + j]` is coordinate j of eigenvector i).
  static func decompose(_ matrix: [Double], n: Int, maxSweeps: Int = 60) -> (
    values: [Double], vectors: [Double]
  ) {
    precondition(matrix.count == n * n)
    var a = matrix
    var v = [Double](repeating: 0, count: n * n)
    for i in 0..<n { v[i * n + i] = 1 }
    var scale = 0.0
    for i in 0..<(n * n) { scale += a[i] * a[i] }
    if n > 1 && scale > 0 {
      for _ in 0..<maxSweeps {
        var off = 0.0
        for p in 0..<(n - 1) { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
        if off <= scale * 1e-30 { break }
        for p in 0..<(n - 1) {
          for q in (p + 1)..<n {
            let apq = a[p * n + q]
            if apq == 0 { continue }
            let app = a[p * n + p]
            let aqq = a[q * n + q]
            let tau = (aqq - app) / (2 * apq)
            let t: Double
            if abs(tau) > 1e150 {
              t = 1 / (2 * tau)
            } else {
              t = (tau >= 0 ? 1 : -1) / (abs(tau) + (1 + tau * tau).squareRoot())
            }
            let c = 1 / (1 + t * t).squareRoot()
            let s = t * c
            // A ← A·J (columns p and q), then A ← Jᵀ·A (rows p and q), V ← V·J.
            for k in 0..<n {
              let akp = a[k * n + p]
              let akq = a[k * n + q]
              a[k * n + p] = c * akp - s * akq
              a[k * n + q] = s * akp + c * akq
            }
            for k in 0..<n {
              let apk = a[p * n + k]
              let aqk = a[q * n + k]
              a[p * n + k] = c * apk - s * aqk
              a[q * n + k] = s * apk + c * aqk
            }
            a[p * n + q] = 0
            a[q * n + p] = 0
            for k in 0..<n {
              let vkp = v[k * n + p]
              let vkq = v[k * n + q]
              v[k * n + p] = c * vkp - s * vkq
              v[k * n + q] = s * vkp + c * vkq
            }
          }
        }
      }
    }
    let order = (0..<n).sorted {
      a[$0 * n + $0] > a[$1 * n + $1] || (a[$0 * n + $0] == a[$1 * n + $1] && $0 < $1)
    }
    var values = [Double](repeating: 0, count: n)
    var vectors = [Double](repeating: 0, count: n * n)
    for (r, i) in order.enumerated() {
      values[r] = a[i * n + i]
      for k in 0..<n { vectors[r * n + k] = v[k * n + i] }
    }
    return (values, vectors)
  }
}
