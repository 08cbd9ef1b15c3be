/// Per-batch normalisation of per-cell profiles to the batch's control cells.
///
/// Each batch (plate) is normalised on its own, with statistics of its own control cells, as
/// pycytominer's `normalize(profiles, features, samples="Metadata_gene == '<control>'", method=…)`
/// applied to one plate at a time:
///
/// - ``Method/standardize``: `(x − mean) / std` with the controls' mean and population standard
///   deviation, scikit-learn's `StandardScaler` fitted on the controls (pycytominer's
///   `method="standardize"`). A feature constant over the controls (scikit-learn's
///   `_is_constant_feature`: variance ≤ n·ε·var + (n·mean·ε)²) keeps scale 1.
/// - ``Method/robust``: `(x − median) / (MAD · 1.4826 + ε)` with the controls' median and median
///   absolute deviation, pycytominer's `RobustMAD` (`method="mad_robustize"`, which scales
///   `scipy.stats.median_abs_deviation` by `scale = 1/1.4826` and adds `mad_robustize_epsilon`,
///   1e-18 by default). Medians of an even count average the two middle values, as pandas does.
///
/// A batch with cells but no control cells is an error naming the batch (pycytominer would fit
/// on an empty frame).
public enum ProfileNormalizer {
  /// The normalisation of `grape profile --normalize`.
  public enum Method: String, CaseIterable, Sendable {
    /// No normalisation.
    case none
    /// Control mean and standard deviation per batch (pycytominer `standardize`).
    case standardize
    /// Control median and MAD · 1.4826 per batch (pycytominer `mad_robustize`).
    case robust
  }

  /// pycytominer's default `mad_robustize_epsilon`.
  public static let defaultRobustEpsilon = 1e-18

  /// Normalises `profiles` in place, batch by batch, to each batch's control cells.
  ///
  /// - Parameters:
  ///   - method: the statistics used.
  ///   - epsilon: added to the MAD (``Method/robust`` only).
  /// - Throws: ``ProfilingError/noControlGene(step:)`` without a control gene,
  ///   ``ProfilingError/noControls(step:batch:control:)`` for a batch without control cells.
  public static func apply(
    _ profiles: inout CellProfiles, method: Method, epsilon: Double = defaultRobustEpsilon
  ) throws {
    guard method != .none else { return }
    let step = "normalize (\(method.rawValue))"
    try profiles.requireControlGene(step: step)
    let d = profiles.dimension
    for (b, cells) in profiles.cellsOfBatch.enumerated() where !cells.isEmpty {
      let controls = cells.filter { profiles.isControl($0) }
      guard !controls.isEmpty else {
        throw ProfilingError.noControls(step: step, batch: profiles.batches[b], control: profiles.controlName)
      }
      var centre = [Double](repeating: 0, count: d)
      var scale = [Double](repeating: 1, count: d)
      var column = [Double](repeating: 0, count: controls.count)
      for j in 0..<d {
        for (r, c) in controls.enumerated() { column[r] = profiles.values[c * d + j] }
        switch method {
        case .standardize:
          (centre[j], scale[j]) = standardScaler(column)
        case .robust:
          let median = Self.median(column)
          let deviations = column.map { abs($0 - median) }
          // scipy: median_abs_deviation(x, scale=1/1.4826) divides by the scale.
          let mad = Self.median(deviations) / (1 / 1.4826)
          centre[j] = median
          scale[j] = mad + epsilon
        case .none:
          break
        }
      }
      for c in cells {
        for j in 0..<d { profiles.values[c * d + j] = (profiles.values[c * d + j] - centre[j]) / scale[j] }
      }
    }
  }

  /// scikit-learn's `StandardScaler` statistics of one column: the mean and the population
  /// standard deviation, 1 for a constant column.
  static func standardScaler(_ x: [Double]) -> (mean: Double, scale: Double) {
    let n = Double(x.count)
    var mean = 0.0
    for v in x { mean += v }
    mean /= n
    var variance = 0.0
    for v in x { variance += (v - mean) * (v - mean) }
    variance /= n
    let eps = Double.ulpOfOne
    let bound = n * eps * variance + (n * mean * eps) * (n * mean * eps)
    if variance <= bound || variance == 0 { return (mean, 1) }
    return (mean, variance.squareRoot())
  }

  /// The median (the mean of the two middle values for an even count), as pandas computes it.
  static func median(_ x: [Double]) -> Double {
    let s = x.sorted()
    let n = s.count
    guard n > 0 else { return .nan }
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
  }
}
