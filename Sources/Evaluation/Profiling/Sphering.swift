/// ZCA whitening (sphering) of each batch, fitted on the batch's control cells.
///
/// pycytominer's `Spherize(method="ZCA", center=True, epsilon=ε)` fitted on the control cells
/// of one batch and applied to every cell of that batch (as `normalize(method="spherize",
/// spherize_method="ZCA", samples=<controls>)` per plate). With `C` the controls centred on their
/// mean `m` (n × d) and `C = U Σ Vᵀ` its singular value decomposition,
///
/// ```
/// W = V · diag(√(n − 1) / (σᵢ + ε)) · Vᵀ,      x ↦ (x − m) · W
/// ```
///
/// so the controls leave with identity covariance (up to ε) and the rotation back onto the
/// feature axes keeps every column tied to its feature (ZCA, unlike PCA whitening). The plain
/// ZCA is used rather than ZCA-cor: after ``ProfileNormalizer`` standardisation the controls'
/// columns already have unit variance, where both agree.
///
/// Here the `σᵢ²` are the eigenvalues of `CᵀC` (Jacobi, in double precision). A batch needs more
/// control cells than features (centred, n controls span at most n − 1 dimensions), and the
/// controls must span every feature: the rank is counted as pycytominer's
/// `numpy.linalg.matrix_rank` does (σ above `σ_max · max(n, d) · ε_double`).
public struct Sphering: Sendable, Equatable {
  /// The regulariser added to every singular value (pycytominer's `epsilon`, 1e-6).
  public var epsilon: Double

  /// A ZCA sphering with regulariser `epsilon`.
  public init(epsilon: Double = 1e-6) {
    self.epsilon = epsilon
  }

  /// Spheres every batch of `profiles` in place with the ZCA transform of its controls.
  ///
  /// - Throws: ``ProfilingError/noControlGene(step:)``,
  ///   ``ProfilingError/noControls(step:batch:control:)``,
  ///   ``ProfilingError/tooFewControls(step:batch:controls:needed:)`` or
  ///   ``ProfilingError/singularControls(step:batch:rank:features:)`` naming the batch.
  public func apply(_ profiles: inout CellProfiles) throws {
    let step = "sphere (ZCA)"
    try profiles.requireControlGene(step: step)
    let d = profiles.dimension
    for (b, cells) in profiles.cellsOfBatch.enumerated() where !cells.isEmpty {
      let batch = profiles.batches[b]
      let controls = cells.filter { profiles.isControl($0) }
      guard !controls.isEmpty else {
        throw ProfilingError.noControls(step: step, batch: batch, control: profiles.controlName)
      }
      guard controls.count > d else {
        throw ProfilingError.tooFewControls(step: step, batch: batch, controls: controls.count, needed: d + 1)
      }
      let (mean, w) = try fit(profiles.values, rows: controls, dimension: d, batch: batch)
      var row = [Double](repeating: 0, count: d)
      for c in cells {
        for j in 0..<d { row[j] = profiles.values[c * d + j] - mean[j] }
        for k in 0..<d {
          var s = 0.0
          for j in 0..<d { s += row[j] * w[j * d + k] }
          profiles.values[c * d + k] = s
        }
      }
    }
  }

  /// The controls' mean and the `d × d` whitening matrix `W` (row-major).
  func fit(_ values: [Double], rows: [Int], dimension d: Int, batch: String) throws -> (mean: [Double], w: [Double]) {
    let n = rows.count
    var mean = [Double](repeating: 0, count: d)
    for r in rows { for j in 0..<d { mean[j] += values[r * d + j] } }
    for j in 0..<d { mean[j] /= Double(n) }
    var scatter = [Double](repeating: 0, count: d * d)
    var x = [Double](repeating: 0, count: d)
    for r in rows {
      for j in 0..<d { x[j] = values[r * d + j] - mean[j] }
      for a in 0..<d { for b in a..<d { scatter[a * d + b] += x[a] * x[b] } }
    }
    for a in 0..<d { for b in 0..<a { scatter[a * d + b] = scatter[b * d + a] } }
    let (lambda, vectors) = SymmetricEigen.decompose(scatter, n: d)
    let sigma = lambda.map { max($0, 0).squareRoot() }
    let tolerance = (sigma.first ?? 0) * Double(max(n, d)) * Double.ulpOfOne
    let rank = sigma.filter { $0 > tolerance }.count
    guard rank == d else {
      throw ProfilingError.singularControls(step: "sphere (ZCA)", batch: batch, rank: rank, features: d)
    }
    let root = Double(n - 1).squareRoot()
    var w = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
      let s = root / (sigma[i] + epsilon)
      for a in 0..<d {
        let va = vectors[i * d + a] * s
        for b in 0..<d { w[a * d + b] += va * vectors[i * d + b] }
      }
    }
    return (mean, w)
  }
}
