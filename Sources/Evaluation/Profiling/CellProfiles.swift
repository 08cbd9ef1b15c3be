/// A per-cell profile matrix with the labels profile processing needs: each cell's gene and
/// batch, the feature names and the control gene.
///
/// Values are row-major `[count, features.count]` in double precision (pycytominer works in
/// float64, so each step compares with it at that precision).
public struct CellProfiles: Sendable, Equatable {
  /// Row-major `[count, features.count]` values.
  public var values: [Double]
  /// The column names (`dim_0`, … when the input names none).
  public var features: [String]
  /// Each cell's index into ``genes``.
  public let geneOfCell: [Int]
  /// Each cell's index into ``batches``.
  public let batchOfCell: [Int]
  /// Gene names.
  public let genes: [String]
  /// Batch names.
  public let batches: [String]
  /// The control gene (an index into ``genes``), when there is one.
  public let controlGene: Int?

  /// The number of cells.
  public var count: Int { geneOfCell.count }
  /// The number of features.
  public var dimension: Int { features.count }

  /// A profile matrix from its parts.
  ///
  /// - Throws: ``ProfilingError/invalidInput(reason:)`` when sizes disagree or a label lies
  ///   outside its names; ``ProfilingError/nonFiniteValue(cell:feature:batch:)`` for the first NaN
  ///   or infinite value.
  public init(
    values: [Double], features: [String], geneOfCell: [Int], batchOfCell: [Int], genes: [String],
    batches: [String], controlGene: Int?
  ) throws {
    let n = geneOfCell.count
    guard !features.isEmpty else { throw ProfilingError.invalidInput(reason: "no feature columns") }
    guard values.count == n * features.count else {
      throw ProfilingError.invalidInput(
        reason: "\(values.count) values for \(n) cells × \(features.count) features")
    }
    guard batchOfCell.count == n else {
      throw ProfilingError.invalidInput(reason: "\(batchOfCell.count) batch labels for \(n) cells")
    }
    if let i = geneOfCell.firstIndex(where: { $0 < 0 || $0 >= genes.count }) {
      throw ProfilingError.invalidInput(reason: "cell \(i): gene index \(geneOfCell[i]) outside 0..<\(genes.count)")
    }
    if let i = batchOfCell.firstIndex(where: { $0 < 0 || $0 >= batches.count }) {
      throw ProfilingError.invalidInput(reason: "cell \(i): batch index \(batchOfCell[i]) outside 0..<\(batches.count)")
    }
    if let c = controlGene, !genes.indices.contains(c) {
      throw ProfilingError.invalidInput(reason: "control gene index \(c) outside 0..<\(genes.count)")
    }
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      let cell = bad / features.count
      throw ProfilingError.nonFiniteValue(
        cell: cell, feature: features[bad % features.count], batch: batches[batchOfCell[cell]])
    }
    self.values = values
    self.features = features
    self.geneOfCell = geneOfCell
    self.batchOfCell = batchOfCell
    self.genes = genes
    self.batches = batches
    self.controlGene = controlGene
  }

  /// Whether cell `i` is a control cell.
  public func isControl(_ i: Int) -> Bool { controlGene.map { geneOfCell[i] == $0 } ?? false }

  /// The cells of each batch, in cell order (an empty list for a batch without cells).
  public var cellsOfBatch: [[Int]] {
    var out = [[Int]](repeating: [], count: batches.count)
    for (i, b) in batchOfCell.enumerated() { out[b].append(i) }
    return out
  }

  /// Throws ``ProfilingError/noControlGene(step:)`` when there is no control gene.
  func requireControlGene(step: String) throws {
    guard controlGene != nil else { throw ProfilingError.noControlGene(step: step) }
  }

  /// The name of the control gene, for messages.
  var controlName: String { controlGene.map { genes[$0] } ?? "none" }

  /// Keeps the columns `kept` (indices into ``features``, in increasing order).
  mutating func keepColumns(_ kept: [Int]) {
    let d = dimension
    var out = [Double]()
    out.reserveCapacity(count * kept.count)
    for i in 0..<count { for j in kept { out.append(values[i * d + j]) } }
    values = out
    features = kept.map { features[$0] }
  }
}
