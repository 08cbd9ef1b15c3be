import OPSData

/// Per-cell codes (style codes, features) with each cell's gene and batch, as in a cell store.
///
/// `values` is row-major `[count, dimension]`; `geneIndex[i]` indexes `geneNames` and
/// `batchIndex[i]` indexes `batchNames`, like `/obs/gene`, `/genes`, `/obs/batch` and `/batches`.
public struct LabeledCodes: Sendable {
  /// Row-major codes, `count × dimension`.
  public let values: [Float]
  /// Number of columns.
  public let dimension: Int
  /// Gene label of each cell, an index into `geneNames`.
  public let geneIndex: [Int]
  /// Gene names.
  public let geneNames: [String]
  /// Batch label of each cell, an index into `batchNames`.
  public let batchIndex: [Int]
  /// Batch names.
  public let batchNames: [String]

  /// Number of cells.
  public var count: Int { geneIndex.count }

  /// Creates validated cell codes.
  ///
  /// - Throws: `EvaluationError` for `d = 0`, no cells, a value count that is not
  ///   `count × dimension`, label arrays of the wrong length or out of range, duplicated gene names
  ///   or a NaN/infinite value (naming the cell row and its gene).
  public init(
    values: [Float], dimension: Int, geneIndex: [Int], geneNames: [String], batchIndex: [Int],
    batchNames: [String], input: String = "cells"
  ) throws {
    guard dimension > 0 else { throw EvaluationError.emptyDimension(input: input) }
    let n = geneIndex.count
    guard n > 0 else { throw EvaluationError.emptyInput(input: input) }
    guard values.count == n * dimension else {
      throw EvaluationError.shapeMismatch(input: input, expected: n * dimension, got: values.count)
    }
    guard batchIndex.count == n else {
      throw EvaluationError.labelCountMismatch(
        input: input, field: "batch", expected: n, got: batchIndex.count)
    }
    for (row, g) in geneIndex.enumerated() where g < 0 || g >= geneNames.count {
      throw EvaluationError.labelOutOfRange(
        input: input, field: "gene", row: row, value: g, count: geneNames.count)
    }
    for (row, b) in batchIndex.enumerated() where b < 0 || b >= batchNames.count {
      throw EvaluationError.labelOutOfRange(
        input: input, field: "batch", row: row, value: b, count: batchNames.count)
    }
    var seen = Set<String>()
    for gene in geneNames where !seen.insert(gene).inserted {
      let rows = geneNames.indices.filter { geneNames[$0] == gene }
      throw EvaluationError.duplicateGene(input: input + " gene names", gene: gene, rows: rows)
    }
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      let row = bad / dimension
      throw EvaluationError.nonFiniteValue(
        input: input, row: row, label: geneNames[geneIndex[row]], column: bad % dimension)
    }
    self.values = values
    self.dimension = dimension
    self.geneIndex = geneIndex
    self.geneNames = geneNames
    self.batchIndex = batchIndex
    self.batchNames = batchNames
  }

  /// The per-gene mean of the codes, one row per gene that has at least one cell (in
  /// `geneNames` order), with the number of cells behind each row.
  public func geneMeans() -> (embedding: GeneEmbedding, cellCounts: [Int]) {
    let d = dimension
    var sums = [Double](repeating: 0, count: geneNames.count * d)
    var counts = [Int](repeating: 0, count: geneNames.count)
    values.withUnsafeBufferPointer { v in
      sums.withUnsafeMutableBufferPointer { s in
        for i in 0..<count {
          let g = geneIndex[i]
          counts[g] += 1
          let src = i * d
          let dst = g * d
          for j in 0..<d { s[dst + j] += Double(v[src + j]) }
        }
      }
    }
    var genes: [String] = []
    var rows: [Float] = []
    var kept: [Int] = []
    for g in geneNames.indices where counts[g] > 0 {
      genes.append(geneNames[g])
      kept.append(counts[g])
      let inv = 1.0 / Double(counts[g])
      for j in 0..<d { rows.append(Float(sums[g * d + j] * inv)) }
    }
    return (GeneEmbedding(unchecked: genes, values: rows, dimension: d), kept)
  }
}
