import GrapeSupport
import NeuralNet
import TensorCore

/// A ResNet basic block (He et al., 2016) with BatchNorm, named as torchvision's `BasicBlock`:
///
/// ```
/// residual: conv1 3×3 (stride s, no bias) → bn1 → ReLU → conv2 3×3 (no bias) → bn2
/// shortcut: downsample = [1×1 conv (stride s, no bias), BN] when the shape changes
/// output:   ReLU(residual + shortcut)
/// ```
public final class BasicBlock: Module, UnaryLayer {
  /// 3×3 convolution (carries the block's stride).
  public let conv1: Conv2d
  /// BatchNorm after `conv1`.
  public let bn1: BatchNorm2d
  /// 3×3 convolution.
  public let conv2: Conv2d
  /// BatchNorm after `conv2`.
  public let bn2: BatchNorm2d
  /// The projection shortcut (`downsample.0` conv, `downsample.1` BN), when needed.
  public let downsample: Sequential?

  /// A block from `inChannels` to `outChannels` with the given stride.
  public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, rng: inout RandomGenerator) {
    conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, stride: stride, padding: 1, bias: false, rng: &rng)
    bn1 = BatchNorm2d(outChannels)
    conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, bias: false, rng: &rng)
    bn2 = BatchNorm2d(outChannels)
    downsample = stride != 1 || inChannels != outChannels
      ? Sequential([Conv2d(inChannels, outChannels, kernelSize: 1, stride: stride, bias: false, rng: &rng), BatchNorm2d(outChannels)])
      : nil
    super.init()
  }

  /// x: [N, in, H, W] → [N, out, H/s, W/s].
  public func callAsFunction(_ x: Tensor) -> Tensor {
    let r = bn2(conv2(bn1(conv1(x)).relu()))
    let s = downsample.map { $0(x) } ?? x
    return (r + s).relu()
  }
}

/// The shape of a ``CellResNet``.
public struct CellResNetShape: Codable, Equatable, Sendable {
  /// Image channels.
  public var inChannels: Int
  /// Channels of the stem and of the first stage (doubled at every later stage).
  public var width: Int
  /// Number of stages (stride 2 between consecutive stages).
  public var stages: Int
  /// Basic blocks per stage.
  public var blocksPerStage: Int

  /// A shape; defaults width 32, 3 stages of 1 block.
  public init(inChannels: Int, width: Int = 32, stages: Int = 3, blocksPerStage: Int = 1) {
    self.inChannels = inChannels
    self.width = width
    self.stages = stages
    self.blocksPerStage = blocksPerStage
  }

  /// Channels of stage `i` (0-based).
  public func channels(ofStage i: Int) -> Int { width << i }
  /// Size of the pooled feature vector (the last stage's channels).
  public var featureDim: Int { channels(ofStage: stages - 1) }
}

/// A small ResNet with BatchNorm for single-cell crops:
///
/// ```
/// stem: conv1 3×3 (C→width, no bias) → bn1 → ReLU
/// stages.0 … stages.{S−1}: blocksPerStage BasicBlocks each, width·2^i channels, stride 2 at the
///                          start of every stage but the first
/// global average pool → features [N, width·2^{S−1}]
/// ```
///
/// The perturbation point "after stage k" (1-based) splits the network into ``trunk(_:upTo:)``
/// and ``tail(_:after:)``.
public final class CellResNet: Module {
  /// The stem's 3×3 convolution.
  public let conv1: Conv2d
  /// The stem's BatchNorm.
  public let bn1: BatchNorm2d
  /// The stages, each a `Sequential` of blocks (`stages.i.j.*`).
  public let stages: [Sequential]
  /// The shape it was built with.
  public let shape: CellResNetShape

  /// Builds the network with He-normal conv weights and BatchNorm at (1, 0).
  public init(shape: CellResNetShape, rng: inout RandomGenerator) {
    precondition(shape.inChannels > 0 && shape.width > 0 && shape.stages > 0 && shape.blocksPerStage > 0, "CellResNet: invalid shape \(shape)")
    conv1 = Conv2d(shape.inChannels, shape.width, kernelSize: 3, padding: 1, bias: false, rng: &rng)
    bn1 = BatchNorm2d(shape.width)
    var stages: [Sequential] = []
    var c = shape.width
    for i in 0..<shape.stages {
      let out = shape.channels(ofStage: i)
      var blocks: [any UnaryLayer] = []
      for j in 0..<shape.blocksPerStage {
        blocks.append(BasicBlock(c, out, stride: i > 0 && j == 0 ? 2 : 1, rng: &rng))
        c = out
      }
      stages.append(Sequential(blocks))
    }
    self.stages = stages
    self.shape = shape
    super.init()
  }

  /// Activations after stage `stage` (1-based; 0 means after the stem).
  public func trunk(_ x: Tensor, upTo stage: Int) -> Tensor {
    precondition(stage >= 0 && stage <= stages.count, "CellResNet.trunk: stage \(stage) outside 0…\(stages.count)")
    var h = bn1(conv1(x)).relu()
    for i in 0..<stage { h = stages[i](h) }
    return h
  }

  /// Pooled features [N, featureDim] from activations after stage `stage`.
  public func tail(_ h: Tensor, after stage: Int) -> Tensor {
    precondition(stage >= 0 && stage <= stages.count, "CellResNet.tail: stage \(stage) outside 0…\(stages.count)")
    var y = h
    for i in stage..<stages.count { y = stages[i](y) }
    return y.mean(axes: [2, 3])
  }

  /// Pooled features [N, featureDim].
  public func callAsFunction(_ x: Tensor) -> Tensor { tail(trunk(x, upTo: stages.count), after: stages.count) }

  /// Every BatchNorm layer.
  public var batchNorms: [BatchNorm2d] { namedModules().compactMap { $0.1 as? BatchNorm2d } }
}
