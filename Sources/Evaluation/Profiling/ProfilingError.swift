/// Errors raised by the profile-processing steps (``ProfilePipeline`` and its parts).
///
/// Each message names the step, the batch or feature at fault and what was expected, so that a
/// command line prints it as one line.
public enum ProfilingError: Error, CustomStringConvertible, Equatable, Sendable {
  /// A value of the per-cell matrix is NaN or infinite.
  case nonFiniteValue(cell: Int, feature: String, batch: String)
  /// A step needs control cells and the matrix names no control gene.
  case noControlGene(step: String)
  /// A step needs control cells and a batch has none.
  case noControls(step: String, batch: String, control: String)
  /// Sphering a batch needs more control cells than features.
  case tooFewControls(step: String, batch: String, controls: Int, needed: Int)
  /// The control cells of a batch do not span every feature (perfect linear dependence).
  case singularControls(step: String, batch: String, rank: Int, features: Int)
  /// Sizes or labels of the per-cell matrix disagree.
  case invalidInput(reason: String)
  /// A setting is out of range.
  case invalidSetting(name: String, value: String, reason: String)
  /// Feature selection removed every feature.
  case noFeaturesLeft(step: String)

  /// A one-line message naming the step, batch or feature at fault.
  public var description: String {
    switch self {
    case .nonFiniteValue(let cell, let feature, let batch):
      return "cell \(cell) (batch '\(batch)'): feature '\(feature)' is NaN or infinite; remove or impute it first"
    case .noControlGene(let step):
      return "\(step): needs control cells, and no control gene is known; name it with --control NAME"
    case .noControls(let step, let batch, let control):
      return "\(step): batch '\(batch)' has no control cells ('\(control)'); every batch needs controls"
    case .tooFewControls(let step, let batch, let controls, let needed):
      return
        "\(step): batch '\(batch)' has \(controls) control cells, needs at least \(needed) (one more than the features); "
        + "select fewer features or leave sphering off"
    case .singularControls(let step, let batch, let rank, let features):
      return
        "\(step): the control cells of batch '\(batch)' span \(rank) of \(features) feature dimensions "
        + "(linear dependence); add --feature-select variance,correlation"
    case .invalidInput(let reason):
      return "profiles: \(reason)"
    case .invalidSetting(let name, let value, let reason):
      return "option \(name) = \(value): \(reason)"
    case .noFeaturesLeft(let step):
      return "\(step): no feature is left"
    }
  }
}
