import GrapeSupport
import Testing
import TensorCore

/// Compares the autodiff gradients of `f` with central finite differences.
///
/// The output of `f` is reduced to a scalar by a fixed random projection `L = Σ f(x)·r`, so
/// every output element contributes. Each input element is perturbed by ±`eps`; the loss is
/// accumulated in Float64 from the float32 outputs. Choose inputs away from kinks (ReLU at 0,
/// ties of max). Float32 evaluation limits the accuracy to about `rtol` 1e-2 with `eps` 1e-2…1e-3.
///
/// - Parameters:
///   - inputs: the points to differentiate at; every one is checked.
///   - f: the function under test, built from tensor ops.
public func gradCheck(
  _ inputs: [Tensor], eps: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3,
  seed: UInt64 = 7, _ message: String = "", sourceLocation: SourceLocation = #_sourceLocation,
  _ f: ([Tensor]) -> Tensor
) {
  let leaves = inputs.map { $0.requiringGrad() }
  let y0 = f(leaves)
  var rng = RandomGenerator(seed: seed)
  let r = Tensor.randn(y0.shape, using: &rng)
  let loss = (y0 * r).sum()
  let analytic = gradients(of: loss, wrt: leaves)

  func lossValue(_ xs: [Tensor]) -> Double {
    // Recording stays on: `f` may take gradients itself (R1); plain inputs record nothing else.
    let y = f(xs)
    var s = 0.0
    for i in 0..<y.count { s += Double(y[flat: i]) * Double(r[flat: i]) }
    return s
  }

  for (k, x) in inputs.enumerated() {
    var numeric = [Float](repeating: 0, count: x.count)
    for i in 0..<x.count {
      var plus = x.scalars
      var minus = plus
      plus[i] += eps
      minus[i] -= eps
      var xsP = inputs
      var xsM = inputs
      xsP[k] = Tensor(plus, shape: x.shape)
      xsM[k] = Tensor(minus, shape: x.shape)
      numeric[i] = Float((lossValue(xsP) - lossValue(xsM)) / (2 * Double(eps)))
    }
    assertClose(
      analytic[k].scalars, numeric, rtol: rtol, atol: atol, "\(message) input \(k) gradient:",
      sourceLocation: sourceLocation)
  }
}

/// A tensor of the given shape with entries drawn uniformly from ±[low, high], keeping away
/// from zero (for checks near kinks).
public func awayFromZero(_ shape: [Int], low: Float = 0.1, high: Float = 1, seed: UInt64) -> Tensor {
  var rng = RandomGenerator(seed: seed)
  let n = shape.reduce(1, *)
  var v = [Float](repeating: 0, count: n)
  for i in 0..<n {
    let m = low + (high - low) * rng.uniformFloat()
    v[i] = rng.uniformFloat() < 0.5 ? -m : m
  }
  return Tensor(v, shape: shape)
}

/// Standard normal entries from a seed.
public func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
  var rng = RandomGenerator(seed: seed)
  return Tensor.randn(shape, std: std, using: &rng)
}
