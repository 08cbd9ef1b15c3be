import GrapeSupport
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

/// Row-major `C = alpha · op(A) · op(B) + beta · C` with packed leading dimensions.
///
/// OpenBLAS runs single-threaded (its spinning worker threads would compete with the kernel
/// threads of ``Parallel``); a product large enough to share is split here into one block of
/// rows (or columns) per core, each an independent single-threaded GEMM. A k of zero leaves
/// `beta · C`.
@inline(__always)
func sgemm(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float, _ c: UnsafeMutablePointer<Float>
) {
  if m == 0 || n == 0 { return }
  FlopCounter.add(2 * m * n * k)
  if k == 0 {
    if beta == 0 { c.update(repeating: 0, count: m * n) } else { for i in 0..<(m * n) { c[i] *= beta } }
    return
  }
  BLASThreads.ensureSingleThreaded()
  let lda = transA ? m : k
  let ldb = transB ? k : n
  let parts = Parallel.threads
  let work = m * n * k
  guard parts > 1, work >= 1 << 20 else {
    gemmBlock(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
    return
  }
  if m >= n {
    // Split rows of C (and of op(A)).
    Parallel.forEach(parts, costPerItem: Parallel.grain) { r in
      for p in r {
        let r0 = m * p / parts, r1 = m * (p + 1) / parts
        if r1 <= r0 { continue }
        let aBlock = transA ? a + r0 : a + r0 * lda
        gemmBlock(transA, transB, r1 - r0, n, k, alpha, aBlock, lda, b, ldb, beta, c + r0 * n, n)
      }
    }
  } else {
    // Split columns of C (and of op(B)).
    Parallel.forEach(parts, costPerItem: Parallel.grain) { r in
      for p in r {
        let c0 = n * p / parts, c1 = n * (p + 1) / parts
        if c1 <= c0 { continue }
        let bBlock = transB ? b + c0 * ldb : b + c0
        gemmBlock(transA, transB, m, c1 - c0, k, alpha, a, lda, bBlock, ldb, beta, c + c0, n)
      }
    }
  }
}

/// One single-threaded OpenBLAS call (row-major), not counted by ``FlopCounter``.
@inline(__always)
func gemmBlock(
  _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
  _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
  _ c: UnsafeMutablePointer<Float>, _ ldc: Int
) {
  cblas_sgemm(
    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// OpenBLAS's own threading, which the toolkit turns off in favour of ``Parallel``.
public enum BLASThreads {
  private static let once: Void = { grape_blas_set_threads(1) }()

  /// Makes OpenBLAS single-threaded (done once, before the first GEMM).
  @inline(__always)
  static func ensureSingleThreaded() { _ = once }

  /// OpenBLAS's thread count.
  public static var current: Int { Int(grape_blas_get_threads()) }
}
