import CBLAS

extension CPUBackend {
  public func gemm(
    batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    _ a: Storage, strideA: Int, _ b: Storage, strideB: Int, beta: Float,
    into c: Storage, strideC: Int
  ) {
    for i in 0..<batch {
      sgemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
        a.pointer + i * strideA, b.pointer + i * strideB, beta: beta, c.pointer + i * strideC)
    }
  }
}

/// Row-major `C = alpha · op(A) · op(B) + beta · C` through OpenBLAS, with packed leading
/// dimensions. A k of zero leaves `beta · C`.
@inline(__always)
func sgemm(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float, _ c: UnsafeMutablePointer<Float>
) {
  if m == 0 || n == 0 { return }
  if k == 0 {
    if beta == 0 { c.update(repeating: 0, count: m * n) } else { for i in 0..<(m * n) { c[i] *= beta } }
    return
  }
  cblas_sgemm(
    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
    Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
    beta, c, Int32(n))
}

/// Number of threads OpenBLAS uses for GEMMs.
public enum BLASThreads {
  /// Sets OpenBLAS's thread count.
  public static func set(_ n: Int) { grape_blas_set_threads(Int32(n)) }
  /// OpenBLAS's thread count.
  public static var current: Int { Int(grape_blas_get_threads()) }
}
