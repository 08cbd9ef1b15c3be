import GrapeSupport
import NeuralNet
import TensorCore

/// StarGAN v2's residual block.
///
/// ```
/// residual: [IN₁] → LReLU(0.2) → conv1 3×3 (in→in) → [avg-pool 2] → [IN₂] → LReLU → conv2 3×3 (in→out)
/// shortcut: [conv1x1 (in→out, no bias) when channels change] → [avg-pool 2]
/// output:   (shortcut + residual) / √2
/// ```
/// Parameter names: `conv1`, `conv2`, `norm1`, `norm2` (affine instance norm, when normalised),
/// `conv1x1`.
public final class ResBlk: Module, UnaryLayer {
  public let conv1: Conv2d
  public let conv2: Conv2d
  public let norm1: InstanceNorm2d?
  public let norm2: InstanceNorm2d?
  public let conv1x1: Conv2d?
  /// Whether the block halves the spatial size.
  public let downsample: Bool

  public init(_ dimIn: Int, _ dimOut: Int, normalize: Bool = false, downsample: Bool = false, rng: inout RandomGenerator) {
    conv1 = Conv2d(dimIn, dimIn, kernelSize: 3, padding: 1, rng: &rng)
    conv2 = Conv2d(dimIn, dimOut, kernelSize: 3, padding: 1, rng: &rng)
    norm1 = normalize ? InstanceNorm2d(dimIn, affine: true) : nil
    norm2 = normalize ? InstanceNorm2d(dimIn, affine: true) : nil
    conv1x1 = dimIn != dimOut ? Conv2d(dimIn, dimOut, kernelSize: 1, bias: false, rng: &rng) : nil
    self.downsample = downsample
    super.init()
  }

  /// x: [N, in, H, W] → [N, out, H', W'] (H' = H/2 when down-sampling).
  public func callAsFunction(_ x: Tensor) -> Tensor {
    var s = x
    if let conv1x1 { s = conv1x1(s) }
    if downsample { s = s.avgPool2x2() }
    var r = x
    if let norm1 { r = norm1(r) }
    r = conv1(r.leakyRelu(0.2))
    if downsample { r = r.avgPool2x2() }
    if let norm2 { r = norm2(r) }
    r = conv2(r.leakyRelu(0.2))
    return (s + r) * Float(0.5).squareRoot()
  }
}

/// StarGAN v2's AdaIN residual block (without the high-pass branch).
///
/// ```
/// residual: AdaIN₁(x, s) → LReLU → [nearest ×2] → conv1 3×3 (in→out) → AdaIN₂(·, s) → LReLU → conv2 3×3
/// shortcut: [nearest ×2] → [conv1x1 (in→out, no bias) when channels change]
/// output:   (residual + shortcut) / √2
/// ```
public final class AdainResBlk: Module {
  public let conv1: Conv2d
  public let conv2: Conv2d
  public let norm1: AdaIN
  public let norm2: AdaIN
  public let conv1x1: Conv2d?
  /// Whether the block doubles the spatial size.
  public let upsample: Bool

  public init(_ dimIn: Int, _ dimOut: Int, styleDim: Int, upsample: Bool = false, rng: inout RandomGenerator) {
    conv1 = Conv2d(dimIn, dimOut, kernelSize: 3, padding: 1, rng: &rng)
    conv2 = Conv2d(dimOut, dimOut, kernelSize: 3, padding: 1, rng: &rng)
    norm1 = AdaIN(styleDim: styleDim, channels: dimIn, rng: &rng)
    norm2 = AdaIN(styleDim: styleDim, channels: dimOut, rng: &rng)
    conv1x1 = dimIn != dimOut ? Conv2d(dimIn, dimOut, kernelSize: 1, bias: false, rng: &rng) : nil
    self.upsample = upsample
    super.init()
  }

  /// x: [N, in, H, W], s: [N, style] → [N, out, H', W'].
  public func callAsFunction(_ x: Tensor, style s: Tensor) -> Tensor {
    var r = norm1(x, style: s).leakyRelu(0.2)
    if upsample { r = r.upsampleNearest2x() }
    r = conv1(r)
    r = conv2(norm2(r, style: s).leakyRelu(0.2))
    var sc = upsample ? x.upsampleNearest2x() : x
    if let conv1x1 { sc = conv1x1(sc) }
    return (r + sc) * Float(0.5).squareRoot()
  }
}
