import GrapeSupport
import TensorCore

/// Weight initialisation schemes, drawn from an explicit seeded generator.
public enum Initializer: Sendable {
  /// Kaiming/He normal, fan-in mode, ReLU gain: N(0, 2/fan_in) (He et al., 2015), as StarGAN v2's
  /// `he_init`.
  case heNormal
  /// Xavier/Glorot uniform: U(±√(6/(fan_in + fan_out))) (Glorot and Bengio, 2010).
  case xavierUniform
  /// Standard normal N(0, 1) (embeddings).
  case standardNormal
  /// Normal with the given standard deviation.
  case normal(std: Float)
  /// All zeros.
  case zeros

  /// A tensor of `shape` initialised by this scheme. For conv weights [O, C, kh, kw] fan-in is
  /// C·kh·kw and fan-out O·kh·kw; for linear weights [out, in] they are in and out.
  public func make(_ shape: [Int], using rng: inout RandomGenerator) -> Tensor {
    let receptive = shape.count > 2 ? shape[2...].reduce(1, *) : 1
    let fanIn = shape.count >= 2 ? shape[1] * receptive : shape.first ?? 1
    let fanOut = (shape.first ?? 1) * receptive
    switch self {
    case .heNormal:
      return Tensor.randn(shape, std: (2 / Float(max(fanIn, 1))).squareRoot(), using: &rng)
    case .xavierUniform:
      let bound = (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
      return Tensor.uniform(shape, low: -bound, high: bound, using: &rng)
    case .standardNormal:
      return Tensor.randn(shape, using: &rng)
    case .normal(let std):
      return Tensor.randn(shape, std: std, using: &rng)
    case .zeros:
      return Tensor.zeros(shape)
    }
  }
}
