// Matrix products through the backend's GEMM.

/// Matrix product `op(a) · op(b)` of 2-D tensors, or of 3-D tensors batch by batch
/// (a 2-D operand is shared by every batch entry of the other).
///
/// Shapes: a [m, k] (or [k, m] with `transposeA`), b [k, n] (or [n, k] with `transposeB`);
/// result [m, n], with a leading batch axis when either operand has one.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
  precondition((2...3).contains(a.rank) && (2...3).contains(b.rank), "matmul: needs rank 2 or 3, got \(a.shape) and \(b.shape)")
  let batchA = a.rank == 3 ? a.shape[0] : 1
  let batchB = b.rank == 3 ? b.shape[0] : 1
  precondition(batchA == batchB || a.rank == 2 || b.rank == 2, "matmul: batch sizes \(batchA) and \(batchB) differ")
  let batch = Swift.max(batchA, batchB)
  let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
  let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
  let (m, k) = transposeA ? (ac, ar) : (ar, ac)
  let (k2, n) = transposeB ? (bc, br) : (br, bc)
  precondition(k == k2, "matmul: inner sizes differ, \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
  let batched = a.rank == 3 || b.rank == 3
  let out = Tensor(uninitializedShape: batched ? [batch, m, n] : [m, n])
  if a.rank == 2 && b.rank == 3 && !transposeA {
    // Shared left operand: one GEMM per batch entry is still the simplest correct route.
    backend.gemm(
      batch: batch, transA: false, transB: transposeB, m: m, n: n, k: k, alpha: 1,
      a.storage, strideA: 0, b.storage, strideB: k * n, beta: 0, into: out.storage, strideC: m * n)
  } else {
    backend.gemm(
      batch: batch, transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1,
      a.storage, strideA: a.rank == 3 ? m * k : 0, b.storage, strideB: b.rank == 3 ? k * n : 0,
      beta: 0, into: out.storage, strideC: m * n)
  }
  return out.recording([a, b]) { g, needs in
    // y = op(A)·op(B); the four transpose cases of the product rule.
    var ga: Tensor? = nil
    var gb: Tensor? = nil
    if needs[0] {
      switch (transposeA, transposeB) {
      case (false, false): ga = matmul(g, b, transposeB: true)
      case (false, true): ga = matmul(g, b)
      case (true, false): ga = matmul(b, g, transposeB: true)
      case (true, true): ga = matmul(b, g, transposeA: true, transposeB: true)
      }
      if a.rank == 2, let x = ga, x.rank == 3 { ga = x.sum(axes: [0]) }
    }
    if needs[1] {
      switch (transposeA, transposeB) {
      case (false, false): gb = matmul(a, g, transposeA: true)
      case (false, true): gb = matmul(g, a, transposeA: true)
      case (true, false): gb = matmul(a, g)
      case (true, true): gb = matmul(g, a, transposeA: true, transposeB: true)
      }
      if b.rank == 2, let x = gb, x.rank == 3 { gb = x.sum(axes: [0]) }
    }
    return [ga, gb]
  }
}

/// A fully connected layer: `x · wᵀ + bias` with x [N, in], w [out, in] (PyTorch layout),
/// bias [out].
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
  precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1], "linear: input \(x.shape) does not fit weight \(weight.shape)")
  let y = matmul(x, weight, transposeB: true)
  guard let bias else { return y }
  return y + bias
}
