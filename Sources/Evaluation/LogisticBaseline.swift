import Foundation
import GrapeSupport

/// The classifier baseline of `grape classify baseline`: a multinomial logistic regression on
/// per-cell engineered features, trained on a classifier run's training cells and scored on its
/// training, validation and held-out cells.
///
/// The features come in already normalised per batch (for example standardised by each batch's
/// control cells, ``ProfileNormalizer``); they are then standardised once more with the mean and
/// population standard deviation of the training cells (scikit-learn's
/// `make_pipeline(StandardScaler(), LogisticRegression(C=c))`), so the L2 penalty weighs every
/// feature alike.
public enum LogisticBaseline {
  /// What the baseline measured.
  public struct Result: Sendable {
    /// The fitted model (on the standardised features).
    public var model: LogisticRegression
    /// Accuracy on the scored subset of the training cells.
    public var trainAccuracy: Double
    /// Accuracy on every training cell.
    public var trainAllAccuracy: Double
    /// Accuracy on the validation cells (nil without any).
    public var validationAccuracy: Double?
    /// Accuracy on the held-out cells (nil without any).
    public var heldOutAccuracy: Double?
    /// Held-out accuracy per held-out batch, by name.
    public var perBatch: [String: Double]
    /// Held-out cells per held-out batch, by name.
    public var cellsPerBatch: [String: Int]
    /// Seconds spent fitting.
    public var fitSeconds: Double
  }

  /// Fits on `training` and scores the other lists (indices into `profiles`).
  ///
  /// - Parameters:
  ///   - profiles: per-cell features (normalised as wanted) with each cell's gene and batch.
  ///   - training: the cells to fit on.
  ///   - trainSubset: training cells to report accuracy on (beside the classifier's).
  ///   - validation: cells of the training batches kept out of training.
  ///   - heldOut: cells of the held-out batches.
  ///   - c: inverse L2 strength (scikit-learn's `C`).
  /// - Throws: ``EvaluationError`` for an empty training set, fewer than two genes in it, or a
  ///   fit that cannot start.
  public static func run(
    profiles: CellProfiles, training: [Int], trainSubset: [Int], validation: [Int], heldOut: [Int], c: Double = 1,
    maxIterations: Int = 1000, tolerance: Double = 1e-5
  ) throws -> Result {
    let d = profiles.dimension
    guard !training.isEmpty else { throw EvaluationError.emptyInput(input: "logistic baseline (no training cells)") }
    // StandardScaler on the training cells.
    var mean = [Double](repeating: 0, count: d)
    var scale = [Double](repeating: 1, count: d)
    var column = [Double](repeating: 0, count: training.count)
    for j in 0..<d {
      for (r, i) in training.enumerated() { column[r] = profiles.values[i * d + j] }
      (mean[j], scale[j]) = ProfileNormalizer.standardScaler(column)
    }
    func rows(_ cells: [Int]) -> [Double] {
      var out = [Double](repeating: 0, count: cells.count * d)
      for (r, i) in cells.enumerated() {
        for j in 0..<d { out[r * d + j] = (profiles.values[i * d + j] - mean[j]) / scale[j] }
      }
      return out
    }
    func labels(_ cells: [Int]) -> [Int] { cells.map { profiles.geneOfCell[$0] } }
    let t0 = monotonicSeconds()
    let model = try LogisticRegression.fit(
      x: rows(training), rows: training.count, features: d, labels: labels(training), c: c, maxIterations: maxIterations, tolerance: tolerance)
    let fitSeconds = monotonicSeconds() - t0
    func score(_ cells: [Int]) -> Double? {
      cells.isEmpty ? nil : model.accuracy(x: rows(cells), rows: cells.count, labels: labels(cells))
    }
    var perBatch: [String: Double] = [:]
    var cellsPerBatch: [String: Int] = [:]
    var byBatch: [Int: [Int]] = [:]
    for i in heldOut { byBatch[profiles.batchOfCell[i], default: []].append(i) }
    for (b, cells) in byBatch {
      perBatch[profiles.batches[b]] = score(cells)
      cellsPerBatch[profiles.batches[b]] = cells.count
    }
    return Result(
      model: model, trainAccuracy: score(trainSubset) ?? 0, trainAllAccuracy: score(training) ?? 0, validationAccuracy: score(validation),
      heldOutAccuracy: score(heldOut), perBatch: perBatch, cellsPerBatch: cellsPerBatch, fitSeconds: fitSeconds)
  }
}
