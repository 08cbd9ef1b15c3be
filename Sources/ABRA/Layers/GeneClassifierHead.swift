import GrapeSupport
import NeuralNet
import TensorCore

/// A gene classifier on an embedding: a linear cross-entropy head `cls` ([G, d] weight, [G]
/// bias; He-normal weight, zero bias) and the ArcFace class centres `arc_w` [G, d]
/// (Xavier-uniform, as ArcFace implementations initialise them).
///
/// Inside GRAPE it is the auxiliary classifier on the style code (`aux_head.cls.*`,
/// `aux_head.arc_w`); in ``CellClassifier`` it is the final layer (`head.*`).
public final class GeneClassifierHead: Module {
  /// The linear classifier d → G.
  public let cls: Linear
  /// ArcFace class centres [G, d], or nil when the method does not use ArcFace.
  public let arcW: Parameter?

  /// A head for `classes` genes on `dim`-dimensional embeddings.
  public init(dim: Int, classes: Int, arcFace: Bool = true, rng: inout RandomGenerator) {
    cls = Linear(dim, classes, rng: &rng)
    arcW = arcFace ? Parameter(Initializer.xavierUniform.make([classes, dim], using: &rng)) : nil
    super.init()
  }

  /// Logits [N, G] of the linear classifier for embeddings [N, d].
  public func callAsFunction(_ embedding: Tensor) -> Tensor { cls(embedding) }

  /// The head's output for the ABRA objective: logits and the embedding itself.
  public func output(_ embedding: Tensor) -> HeadOutput { HeadOutput(logits: cls(embedding), embedding: embedding) }
}
