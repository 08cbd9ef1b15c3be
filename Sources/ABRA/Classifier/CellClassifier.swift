import GrapeSupport
import NeuralNet
import TensorCore

/// The perturbation classifier of `grape classify`: a ``CellResNet`` backbone, a gene classifier
/// head on its pooled features, and the method's perturbation at the configured stage.
///
/// Parameter names: `backbone.conv1.weight`, `backbone.bn1.*`, `backbone.stages.{i}.{j}.*`
/// (torchvision's BasicBlock names), `head.cls.{weight,bias}`, `head.arc_w` (ABRA only),
/// `abra.k_mu`, `abra.k_sigma` [1, C, 1, 1] (ABRA only). BatchNorm buffers (`running_mean`,
/// `running_var`, `num_batches_tracked`) are part of the state.
public final class CellClassifier: Module {
  /// The ResNet.
  public let backbone: CellResNet
  /// Linear classifier (and ArcFace centres for ABRA) on the pooled features.
  public let head: GeneClassifierHead
  /// ABRA's perturbation layer (method `abra`).
  public let abra: ABRALayer?
  /// DSU's layer (method `dsu`; no parameters).
  public let dsu: DSULayer?
  /// The training method.
  public let method: ClassifierMethod
  /// The perturbation acts after this stage (1-based).
  public let perturbStage: Int

  /// Builds the model of `config` with weights drawn from `rng`.
  public init(config c: ClassifierConfig, rng: inout RandomGenerator) {
    backbone = CellResNet(shape: c.networkShape, rng: &rng)
    head = GeneClassifierHead(dim: c.networkShape.featureDim, classes: c.genes.count, arcFace: c.method == .abra && c.abraTerms.usesArcFace, rng: &rng)
    let perturbChannels = c.networkShape.channels(ofStage: c.perturbStage - 1)
    abra = c.method == .abra ? ABRALayer(channels: perturbChannels, initialK: c.abraInitialK, maxMagnitude: c.abraMaxK, groups: c.plateGroups) : nil
    dsu = c.method == .dsu ? DSULayer(probability: c.dsuProbability) : nil
    method = c.method
    perturbStage = c.perturbStage
    super.init()
  }

  /// Pooled penultimate features [N, d] without any perturbation.
  public func features(_ x: Tensor) -> Tensor { backbone(x) }

  /// Classifier logits [N, G] without any perturbation.
  public func logits(_ x: Tensor) -> Tensor { head(features(x)) }

  /// Parameters trained by descent: everything but ABRA's K.
  public func descendedParameters() -> [(String, Parameter)] {
    namedParameters().filter { !$0.0.hasPrefix("abra.") }
  }

  // MARK: BatchNorm modes

  /// Runs `body` with every BatchNorm normalising by the statistics of its current input (AdaBN)
  /// while the rest of the model stays in evaluation mode; running statistics are left as they
  /// were.
  public func withBatchStatistics<R>(_ body: () throws -> R) rethrows -> R {
    let wasTraining = isTraining
    eval()
    for bn in backbone.batchNorms { bn.train(true) }
    defer { train(wasTraining) }
    return try withFrozenRunningStatistics(body)
  }

  /// Runs `body` and then restores every BatchNorm buffer, so passes that must not count (ABRA's
  /// phase 1, AdvStyle's first pass, AdaBN) leave the running statistics untouched.
  public func withFrozenRunningStatistics<R>(_ body: () throws -> R) rethrows -> R {
    let saved = namedBuffers().map { ($0.1, $0.1.value) }
    defer { for (b, v) in saved { b.value = v } }
    return try body()
  }
}
