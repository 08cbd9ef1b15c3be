import GrapeSupport
import NeuralNet
import TensorCore

/// GRAPE's generator: StarGAN v2's encoder–decoder without the high-pass branch or final tanh.
///
/// ```
/// from_rgb 3×3 (C→dim_in) → encode: 3 down ResBlks (IN, channels doubling up to max_conv_dim)
///   → 2 ResBlks (IN) → decode: 2 AdainResBlks → 3 up AdainResBlks → to_rgb: IN(affine) → LReLU → 1×1 (→C)
/// ```
/// `decode` is ordered as StarGAN v2 builds it (`decode.insert(0, …)`): `decode.0` and
/// `decode.1` are the intermediate blocks, `decode.2 … decode.4` up-sample, the last one back
/// to dim_in channels.
public final class Generator: Module {
  public let fromRGB: Conv2d
  public let encode: [ResBlk]
  public let decode: [AdainResBlk]
  public let toRGB: Sequential

  public init(imageChannels: Int, dimIn: Int, maxConvDim: Int, styleDim: Int, downsamplings: Int = 3, rng: inout RandomGenerator) {
    fromRGB = Conv2d(imageChannels, dimIn, kernelSize: 3, padding: 1, rng: &rng)
    var enc: [ResBlk] = []
    var dec: [AdainResBlk] = []
    var d = dimIn
    for _ in 0..<downsamplings {
      let out = min(d * 2, maxConvDim)
      enc.append(ResBlk(d, out, normalize: true, downsample: true, rng: &rng))
      dec.insert(AdainResBlk(out, d, styleDim: styleDim, upsample: true, rng: &rng), at: 0)
      d = out
    }
    for _ in 0..<2 {
      enc.append(ResBlk(d, d, normalize: true, rng: &rng))
      dec.insert(AdainResBlk(d, d, styleDim: styleDim, rng: &rng), at: 0)
    }
    encode = enc
    decode = dec
    toRGB = Sequential([InstanceNorm2d(dimIn, affine: true), LeakyReLU(0.2), Conv2d(dimIn, imageChannels, kernelSize: 1, rng: &rng)])
    super.init()
  }

  override public func childName(for property: String) -> String {
    switch property {
    case "fromRGB": return "from_rgb"
    case "toRGB": return "to_rgb"
    default: return super.childName(for: property)
    }
  }

  /// x: [N, C, H, W], s: [N, style] → the image of x as if it carried style s, [N, C, H, W].
  public func callAsFunction(_ x: Tensor, style s: Tensor) -> Tensor {
    var h = fromRGB(x)
    for block in encode { h = block(h) }
    for block in decode { h = block(h, style: s) }
    return toRGB(h)
  }
}

/// GRAPE's mapping network F: 3 linear layers with ReLU between (latent → hidden → hidden →
/// style), one head. Names `net.0`, `net.2`, `net.4`.
public final class MappingNetwork: Module, UnaryLayer {
  public let net: Sequential

  public init(latentDim: Int, hiddenDim: Int, styleDim: Int, rng: inout RandomGenerator) {
    net = Sequential([
      Linear(latentDim, hiddenDim, rng: &rng), ReLU(), Linear(hiddenDim, hiddenDim, rng: &rng), ReLU(),
      Linear(hiddenDim, styleDim, rng: &rng),
    ])
    super.init()
  }

  /// z: [N, latent] → [N, style].
  public func callAsFunction(_ z: Tensor) -> Tensor { net(z) }
}
