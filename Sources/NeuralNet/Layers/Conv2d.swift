import GrapeSupport
import TensorCore

/// A 2-D convolution layer (`torch.nn.Conv2d`): weight [out, in, k, k], optional bias [out].
///
/// ```
/// y[n, o] = bias[o] + Σ_c weight[o, c] ⋆ x[n, c]
/// ```
/// Weights are He-normal (fan-in) and biases zero, as StarGAN v2 initialises them.
public final class Conv2d: Module, UnaryLayer {
  /// [out, in, k, k].
  public let weight: Parameter
  /// [out], or nil.
  public let bias: Parameter?
  /// Stride in both directions.
  public let stride: Int
  /// Zero padding on each side.
  public let padding: Int

  /// - Parameters:
  ///   - inChannels: input channels C.
  ///   - outChannels: output channels O.
  ///   - kernelSize: square kernel extent.
  ///   - stride, padding: as PyTorch.
  ///   - bias: whether to add a learned bias.
  ///   - initializer: the weight scheme (He normal by default).
  ///   - rng: the seeded generator the weights are drawn from.
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    bias: Bool = true, initializer: Initializer = .heNormal, rng: inout RandomGenerator
  ) {
    precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0, "Conv2d: invalid geometry")
    weight = Parameter(initializer.make([outChannels, inChannels, kernelSize, kernelSize], using: &rng))
    self.bias = bias ? Parameter(Tensor.zeros([outChannels])) : nil
    self.stride = stride
    self.padding = padding
    super.init()
  }

  /// x: [N, in, H, W] → [N, out, H', W'].
  public func callAsFunction(_ x: Tensor) -> Tensor {
    conv2d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
  }
}

/// A fully connected layer (`torch.nn.Linear`): y = x·weightᵀ + bias, weight [out, in].
///
/// Weights He-normal (fan-in), biases zero.
public final class Linear: Module, UnaryLayer {
  /// [out, in].
  public let weight: Parameter
  /// [out], or nil.
  public let bias: Parameter?

  /// A layer from `inFeatures` to `outFeatures`.
  public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, initializer: Initializer = .heNormal, rng: inout RandomGenerator) {
    precondition(inFeatures > 0 && outFeatures > 0, "Linear: invalid sizes \(inFeatures) → \(outFeatures)")
    weight = Parameter(initializer.make([outFeatures, inFeatures], using: &rng))
    self.bias = bias ? Parameter(Tensor.zeros([outFeatures])) : nil
    super.init()
  }

  /// x: [N, in] → [N, out].
  public func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight: weight.value, bias: bias?.value) }
}

/// A trainable lookup table (`torch.nn.Embedding`): row i of `weight` [count, dim] is the
/// vector of item i. Initialised N(0, 1), as PyTorch.
public final class Embedding: Module {
  /// [count, dim].
  public let weight: Parameter

  /// A table of `count` vectors of size `dim`.
  public init(_ count: Int, _ dim: Int, initializer: Initializer = .standardNormal, rng: inout RandomGenerator) {
    precondition(count > 0 && dim > 0, "Embedding: invalid size \(count) × \(dim)")
    weight = Parameter(initializer.make([count, dim], using: &rng))
    super.init()
  }

  /// The rows at `indices`: [indices.count, dim].
  public func callAsFunction(_ indices: [Int]) -> Tensor { weight.value.indexSelect(indices) }
}
