import GrapeSupport
import Foundation
import Training
import NeuralNet
import TensorCore

/// The channel statistics of one batch's features at the classifier's perturbation point.
public struct BatchFeatureStatistics: Sendable, Equatable {
  /// The batch's name.
  public var batch: String
  /// Whether the run held the batch out of training.
  public var heldOut: Bool
  /// Cells of the batch.
  public var cells: Int
  /// Per channel, the mean over the batch's cells and positions (N, H, W): ABRA's μ_c (Eq. 7).
  public var mean: [Double]
  /// Per channel, the standard deviation over (N, H, W): ABRA's σ_c.
  public var std: [Double]
}

extension ClassifierEvaluator {
  /// Per batch of `source`, the mean and standard deviation of every channel of the activations
  /// after stage ``CellClassifier/perturbStage`` (where ABRA perturbs them), with the model in
  /// evaluation mode (BatchNorm by its running statistics, no perturbation).
  ///
  /// These are the statistics ABRA's layer perturbs by ε·K, one set per experiment: the spread
  /// of the training batches' μ_c and σ_c is the shift seen in training, a held-out batch's
  /// distance from them the shift met at test time, both in the units of K.
  ///
  /// - Throws: ``ABRAError`` when the data does not fit the run.
  public func featureStatistics(source: CellSource, chunkSize: Int = 256) throws -> [BatchFeatureStatistics] {
    try checkData(source)
    try bind(source)
    let stage = model.perturbStage
    let channels = config.networkShape.channels(ofStage: stage - 1)
    var out: [BatchFeatureStatistics] = []
    var unused = RandomGenerator(seed: 0)
    for (b, cells) in source.cellsOfBatch.enumerated() where !cells.isEmpty {
      var sum = [Double](repeating: 0, count: channels)
      var sumSq = [Double](repeating: 0, count: channels)
      var count = 0
      try forEachChunk(source, cells, tta: false, ttaBatch: 2, chunkSize: chunkSize, rng: &unused, through: { self.model.backbone.trunk($0, upTo: stage) }) { _, h in
        let (s, s2) = withoutGradient { (h.sum(axes: [0, 2, 3]).scalars, h.square().sum(axes: [0, 2, 3]).scalars) }
        for c in 0..<channels {
          sum[c] += Double(s[c])
          sumSq[c] += Double(s2[c])
        }
        count += h.count / channels
      }
      let mean = sum.map { $0 / Double(count) }
      let std = zip(sumSq, mean).map { (max($0 / Double(count) - $1 * $1, 0)).squareRoot() }
      let name = source.batchNames[b]
      out.append(BatchFeatureStatistics(batch: name, heldOut: config.holdoutBatches.contains(name), cells: cells.count, mean: mean, std: std))
    }
    return out
  }

  /// ``featureStatistics(source:chunkSize:)`` as a table: one row per batch and channel, columns
  /// `batch`, `held_out` (0/1), `cells`, `channel`, `mean`, `std`, `k_mu`, `k_sigma` (the run's
  /// learned K of that channel; empty without an ABRA layer).
  public static func statisticsTSV(_ stats: [BatchFeatureStatistics], model: CellClassifier) -> String {
    let k = model.abra.map { layer in withoutGradient { (layer.kMu.value.scalars, layer.kSigma.value.scalars) } }
    var lines = ["batch\theld_out\tcells\tchannel\tmean\tstd\tk_mu\tk_sigma"]
    for s in stats {
      for c in s.mean.indices {
        let kmu = k.map { c < $0.0.count ? String(format: "%.6g", $0.0[c]) : "" } ?? ""
        let ksd = k.map { c < $0.1.count ? String(format: "%.6g", $0.1[c]) : "" } ?? ""
        lines.append("\(s.batch)\t\(s.heldOut ? 1 : 0)\t\(s.cells)\t\(c)\t\(String(format: "%.6g", s.mean[c]))\t\(String(format: "%.6g", s.std[c]))\t\(kmu)\t\(ksd)")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
