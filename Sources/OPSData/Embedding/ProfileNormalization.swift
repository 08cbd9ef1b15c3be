/// How per-cell profiles (engineered features, style codes) are normalised before they are
/// aggregated per gene.
///
/// `controls` standardises every column within each batch by the mean and population standard
/// deviation of that batch's control cells, as pycytominer's
/// `normalize(method="standardize", samples=<controls>)` does per plate and as GRAPE's
/// preprocessing does to pixels. It removes each batch's shift and scale of every column, which
/// the networks cannot remove from pixels alone (illumination, focus and density differ by batch).
/// A batch without control cells is standardised by all of its cells.
public enum ProfileNormalization: String, CaseIterable, Sendable {
  /// Profiles as computed.
  case none
  /// Per-batch standardisation by the control cells.
  case controls

  /// Standardises `values` [cells × dimension] in place, batch by batch (see the type's doc).
  ///
  /// - Parameters:
  ///   - batchOfCell: the batch index of every cell.
  ///   - isControl: whether each cell is a control cell.
  /// - Returns: the number of batches that had no control cells (standardised by all their cells).
  @discardableResult
  public static func standardizePerBatch(
    _ values: inout [Float], dimension d: Int, batchOfCell: [Int], isControl: [Bool], epsilon: Double = 1e-6
  ) -> Int {
    precondition(d > 0 && values.count == batchOfCell.count * d && isControl.count == batchOfCell.count, "standardizePerBatch: sizes")
    var cellsOfBatch: [Int: [Int]] = [:]
    for (cell, b) in batchOfCell.enumerated() { cellsOfBatch[b, default: []].append(cell) }
    var withoutControls = 0
    for (_, cells) in cellsOfBatch {
      var reference = cells.filter { isControl[$0] }
      if reference.isEmpty {
        reference = cells
        withoutControls += 1
      }
      var mean = [Double](repeating: 0, count: d)
      for c in reference { for j in 0..<d { mean[j] += Double(values[c * d + j]) } }
      for j in 0..<d { mean[j] /= Double(reference.count) }
      var variance = [Double](repeating: 0, count: d)
      for c in reference {
        for j in 0..<d {
          let e = Double(values[c * d + j]) - mean[j]
          variance[j] += e * e
        }
      }
      let scale = variance.map { 1 / (($0 / Double(reference.count)).squareRoot() + epsilon) }
      for c in cells { for j in 0..<d { values[c * d + j] = Float((Double(values[c * d + j]) - mean[j]) * scale[j]) } }
    }
    return withoutControls
  }
}
