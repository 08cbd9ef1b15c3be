import GrapeSupport
import Training
import NeuralNet
import TensorCore

/// Turns stored pixels into classifier inputs: optional augmentation, the run's input transform,
/// and optional per-crop standardisation.
public struct ClassifierInput: Sendable {
  /// [C, H, W].
  public let imageShape: [Int]
  /// The stored-pixel transform.
  public let transform: InputTransform
  /// Per-crop, per-channel standardisation over (H, W) (instance normalisation, eps 1e-5).
  public let standardize: Bool

  /// The pipeline a configuration asks for.
  public init(config: ClassifierConfig) {
    imageShape = config.imageShape
    transform = config.inputTransform ?? .identity
    standardize = config.standardizeInputs
  }

  private init(imageShape: [Int], transform: InputTransform, standardize: Bool) {
    self.imageShape = imageShape
    self.transform = transform
    self.standardize = standardize
  }

  /// This pipeline with a per-batch `controls` transform completed for every batch of `source`
  /// (each batch it has no statistics for normalised by its own control cells;
  /// ``InputTransform/bound(to:)``); other transforms are unchanged.
  public func bound(to source: CellSource) throws -> ClassifierInput {
    ClassifierInput(imageShape: imageShape, transform: try transform.bound(to: source), standardize: standardize)
  }

  /// Network inputs [cells.count, C, H, W] for the given cells.
  ///
  /// With `augment`, each crop is flipped horizontally, flipped vertically and rotated by 90°
  /// (square crops only), each with probability 0.5; three uniforms are drawn per crop whether
  /// or not they are used, so the generator advances by a fixed amount.
  public func images(_ source: CellSource, cells: [Int], augment: Bool, rng: inout RandomGenerator) throws -> Tensor {
    var px = try source.pixels(cells)
    if augment { ClassifierInput.augment(&px, count: cells.count, shape: imageShape, rng: &rng) }
    let t = try transform.apply(px, shape: [cells.count] + imageShape, batchNames: cells.map { source.batchNames[source.batchOfCell[$0]] })
    return standardize ? withoutGradient { instanceNorm(t) } : t
  }

  /// Random flips and 90° rotations of crops laid out [N, C, H, W], in place.
  static func augment(_ px: inout [Float], count: Int, shape: [Int], rng: inout RandomGenerator) {
    let (c, h, w) = (shape[0], shape[1], shape[2])
    let plane = h * w
    var scratch = [Float](repeating: 0, count: plane)
    for n in 0..<count {
      let flipH = rng.uniform() < 0.5
      let flipV = rng.uniform() < 0.5
      let rotate = rng.uniform() < 0.5 && h == w
      guard flipH || flipV || rotate else { continue }
      for ch in 0..<c {
        let base = (n * c + ch) * plane
        for y in 0..<h {
          for x in 0..<w {
            // Output (y, x) reads the source pixel after the inverse of the chosen maps.
            var sy = y
            var sx = x
            if rotate { (sy, sx) = (sx, w - 1 - sy) }
            if flipV { sy = h - 1 - sy }
            if flipH { sx = w - 1 - sx }
            scratch[y * w + x] = px[base + sy * w + sx]
          }
        }
        for i in 0..<plane { px[base + i] = scratch[i] }
      }
    }
  }
}
