#if canImport(Glibc)
  import Glibc
#else
  import Darwin
#endif
import GrapeSupport
import CBLAS

/// The CPU backend: OpenBLAS for GEMMs, plain loops split over cores for everything else.
public struct CPUBackend: Backend {
  public var name: String { "cpu" }

  public init() {}

  public func allocate(_ count: Int) -> Storage { Storage(uninitializedCount: count) }

  public func unary(_ op: UnaryOp, _ x: Storage, into y: Storage) {
    let n = x.count
    let xp = UnsafePointer(x.pointer)
    let yp = y.pointer
    Parallel.forEach(n, costPerItem: 4) { r in
      unaryLoop(op, xp + r.lowerBound, yp + r.lowerBound, r.count)
    }
  }
}

/// The element loop of ``CPUBackend/unary(_:_:into:)``; the switch sits outside the loops.
@inline(__always)
private func unaryLoop(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
  switch op {
  case .neg: for i in 0..<n { y[i] = -x[i] }
  case .exp: for i in 0..<n { y[i] = expf(x[i]) }
  case .log: for i in 0..<n { y[i] = logf(x[i]) }
  case .sqrt: for i in 0..<n { y[i] = x[i].squareRoot() }
  case .rsqrt: for i in 0..<n { y[i] = 1 / x[i].squareRoot() }
  case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
  case .sign: for i in 0..<n { y[i] = x[i] > 0 ? 1 : (x[i] < 0 ? -1 : 0) }
  case .relu: for i in 0..<n { y[i] = Swift.max(x[i], 0) }
  case .positive: for i in 0..<n { y[i] = x[i] > 0 ? 1 : 0 }
  case .sigmoid:
    for i in 0..<n {
      let v = x[i]
      if v >= 0 {
        y[i] = 1 / (1 + expf(-v))
      } else {
        let e = expf(v)
        y[i] = e / (1 + e)
      }
    }
  case .tanh: for i in 0..<n { y[i] = tanhf(x[i]) }
  case .softplus:
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for large |x|.
    for i in 0..<n { y[i] = Swift.max(x[i], 0) + log1pf(expf(-Swift.abs(x[i]))) }
  case .square: for i in 0..<n { y[i] = x[i] * x[i] }
  case .reciprocal: for i in 0..<n { y[i] = 1 / x[i] }
  case .leakyRelu(let s): for i in 0..<n { y[i] = x[i] > 0 ? x[i] : s * x[i] }
  case .leakySlope(let s): for i in 0..<n { y[i] = x[i] > 0 ? 1 : s }
  case .pow(let p):
    if p == 2 {
      for i in 0..<n { y[i] = x[i] * x[i] }
    } else {
      for i in 0..<n { y[i] = powf(x[i], p) }
    }
  case .clamp(let lo, let hi): for i in 0..<n { y[i] = Swift.min(Swift.max(x[i], lo), hi) }
  case .inside(let lo, let hi): for i in 0..<n { y[i] = (x[i] > lo && x[i] < hi) ? 1 : 0 }
  case .affine(let a, let b): for i in 0..<n { y[i] = a * x[i] + b }
  }
}
