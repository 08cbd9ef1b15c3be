import GrapeSupport
import NeuralNet
import TensorCore

/// The convolutional trunk StarGAN v2's style encoder and discriminator share:
/// conv 3×3 (C→dim_in) → R down-sampling ResBlks without normalisation (channels doubling up to
/// max_conv_dim), R = ⌊log₂ img⌋ − 2, leaving k×k feature maps.
struct TrunkPlan {
  let blocks: Int
  let finalChannels: Int
  let finalSize: Int

  init(imageSize: Int, dimIn: Int, maxConvDim: Int) {
    precondition(imageSize >= 8 && imageSize % 8 == 0, "image size must be a multiple of 8, got \(imageSize)")
    var r = 0
    while (1 << (r + 1)) <= imageSize { r += 1 }  // r = ⌊log₂ img⌋
    blocks = r - 2
    var d = dimIn
    var size = imageSize
    for _ in 0..<blocks {
      d = min(d * 2, maxConvDim)
      size /= 2
    }
    finalChannels = d
    finalSize = size
  }

  static func build(_ plan: TrunkPlan, imageChannels: Int, dimIn: Int, maxConvDim: Int, rng: inout RandomGenerator) -> [any UnaryLayer] {
    var layers: [any UnaryLayer] = [Conv2d(imageChannels, dimIn, kernelSize: 3, padding: 1, rng: &rng)]
    var d = dimIn
    for _ in 0..<plan.blocks {
      let out = min(d * 2, maxConvDim)
      layers.append(ResBlk(d, out, downsample: true, rng: &rng))
      d = out
    }
    return layers
  }
}

/// GRAPE's style encoder E: the shared trunk, then LReLU → conv k×k → LReLU, then one linear
/// head to style_dim. Names `trunk.0`, `trunk.1…R`, `head.1`, `fc`.
public final class StyleEncoder: Module {
  public let trunk: Sequential
  public let head: Sequential
  public let fc: Linear
  /// Channels of the trunk's output (ABRA perturbs these).
  public let featureChannels: Int

  public init(imageSize: Int, imageChannels: Int, dimIn: Int, maxConvDim: Int, styleDim: Int, rng: inout RandomGenerator) {
    let plan = TrunkPlan(imageSize: imageSize, dimIn: dimIn, maxConvDim: maxConvDim)
    trunk = Sequential(TrunkPlan.build(plan, imageChannels: imageChannels, dimIn: dimIn, maxConvDim: maxConvDim, rng: &rng))
    head = Sequential([
      LeakyReLU(0.2), Conv2d(plan.finalChannels, plan.finalChannels, kernelSize: plan.finalSize, rng: &rng), LeakyReLU(0.2),
    ])
    fc = Linear(plan.finalChannels, styleDim, rng: &rng)
    featureChannels = plan.finalChannels
    super.init()
  }

  /// x: [N, C, H, W] → style codes [N, style].
  public func callAsFunction(_ x: Tensor) -> Tensor { codes(fromFeatures: trunk(x)) }

  /// The trunk's feature maps [N, featureChannels, k, k] (after the last residual block).
  public func features(_ x: Tensor) -> Tensor { trunk(x) }

  /// Style codes from trunk features.
  public func codes(fromFeatures h: Tensor) -> Tensor {
    let y = head(h)
    return fc(y.reshaped([y.shape[0], -1]))
  }
}

/// GRAPE's multi-head discriminator D: the shared trunk, LReLU → conv k×k → LReLU → 1×1 conv to
/// one output per gene; the output of head y is taken. Names `main.0 … main.{R+4}`.
public final class Discriminator: Module {
  public let main: Sequential
  /// Number of heads (genes).
  public let heads: Int

  public init(imageSize: Int, imageChannels: Int, dimIn: Int, maxConvDim: Int, genes: Int, rng: inout RandomGenerator) {
    let plan = TrunkPlan(imageSize: imageSize, dimIn: dimIn, maxConvDim: maxConvDim)
    var layers = TrunkPlan.build(plan, imageChannels: imageChannels, dimIn: dimIn, maxConvDim: maxConvDim, rng: &rng)
    layers.append(LeakyReLU(0.2))
    layers.append(Conv2d(plan.finalChannels, plan.finalChannels, kernelSize: plan.finalSize, rng: &rng))
    layers.append(LeakyReLU(0.2))
    layers.append(Conv2d(plan.finalChannels, genes, kernelSize: 1, rng: &rng))
    main = Sequential(layers)
    heads = genes
    super.init()
  }

  /// The 1×1 convolution holding one output channel (head) per gene, `main.{R+4}`.
  public var headLayer: Conv2d? { main.layers.last as? Conv2d }

  /// All heads' logits [N, genes].
  public func logits(_ x: Tensor) -> Tensor { main(x).reshaped([x.shape[0], heads]) }

  /// The logit of head `genes[i]` for image i: [N].
  public func callAsFunction(_ x: Tensor, genes: [Int]) -> Tensor { logits(x).pick(genes) }
}
