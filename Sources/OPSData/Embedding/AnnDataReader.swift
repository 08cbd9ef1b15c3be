import Foundation

/// Reads the gene names and a matrix of an AnnData (`.h5ad`) file as anndata 0.7 and later write
/// it, and averages its rows per gene.
///
/// - The matrix is `X`, or `obsm/KEY` with ``EmbeddingReadOptions/obsm``: a dense 2-D dataset
///   (any float or integer type) or a sparse group (`data`, `indices`, `indptr`, attribute
///   `encoding-type` = `csr_matrix` or `csc_matrix` and `shape`; the `h5sparse_format` and
///   `h5sparse_shape` attributes of anndata before 0.8 too).
/// - The genes are an `obs` column (``EmbeddingReadOptions/geneColumn``, else the first of
///   ``EmbeddingReadOptions/defaultGeneColumns`` that `obs` has), else the `obs` index (the dataset
///   the `_index` attribute names). Columns may be string arrays, integer arrays or categoricals
///   (a group with `categories` and `codes`, or the codes with `obs/__categories/NAME` before 0.8).
///   An index of cell numbers (`0`, `1`, …) with no gene column is refused, naming the columns.
/// - Rows of one gene (cells of a per-cell file) are replaced by their mean.
struct AnnDataReader {
  /// The file, for error messages.
  let path: String
  private let file: HDF5File
  let root: HDF5Group

  /// Opens `path`; the file stays open while the reader lives.
  init(path: String) throws {
    self.path = path
    file = try HDF5File.open(path)
    root = try file.root
  }

  /// Reads the embedding of per-gene means and says how it was read.
  func read(options: EmbeddingReadOptions) throws -> (embedding: GeneEmbedding, report: EmbeddingReadReport) {
    let matrixPath = options.obsm.map { "obsm/" + $0 } ?? "X"
    let matrix = try openMatrix(matrixPath)
    let obs = try observations()
    guard obs.index.count == matrix.rows else {
      throw invalid("\(matrixPath) has \(matrix.rows) rows but the obs index has \(obs.index.count) names")
    }
    let (genes, geneSource) = try geneNames(obs: obs, options: options)
    var means = GeneMeans(dimension: matrix.columns)
    guard matrix.columns > 0 else { throw invalid("\(matrix.label) has no columns") }
    let distinct = Double(Set(genes).count)
    guard AllocationLimit.fits(count: distinct * Double(matrix.columns), size: MemoryLayout<Double>.stride) else {
      throw invalid(
        "\(Int(distinct)) genes × \(matrix.columns) columns of \(matrix.label) need "
          + "\(AllocationLimit.gibibytes(distinct * Double(matrix.columns), size: MemoryLayout<Double>.stride)), more than this machine can hold")
    }
    try matrix.accumulate(into: &means, genes: genes) { row, column, value in
      invalid(
        "\(matrixPath) row \(row) (obs name '\(obs.index[row])', gene '\(genes[row])'), column \(column): "
          + "\(value) is not a finite float32 value")
    }
    var source = ""
    if try root.kind(of: "uns/source") == .dataset {
      source = (try? root.dataset("uns/source").readString()) ?? ""
    }
    let report = EmbeddingReadReport(
      format: .h5ad, geneSource: geneSource, matrix: matrix.label, rows: matrix.rows, rowNoun: "cells",
      genes: means.genes.count, dimension: matrix.columns)
    return (means.embedding(source: source), report)
  }

  func invalid(_ reason: String) -> OPSDataError {
    OPSDataError.invalidEmbedding(path: path, reason: reason)
  }

  // MARK: - obs

  /// The `obs` dataframe: its index and the names of its columns.
  struct Observations {
    let group: HDF5Group
    let indexName: String
    let index: [String]
    let columns: [String]
  }

  func observations() throws -> Observations {
    guard try root.kind(of: "obs") == .group else {
      throw invalid(
        try root.kind(of: "obs") == nil
          ? "no obs (not an AnnData file?)" : "obs is not a group (AnnData files before 0.7 are not supported)")
    }
    let obs = try root.group("obs")
    let indexName = obs.attributes.contains("_index") ? try obs.attributes.string("_index") : "_index"
    guard try obs.kind(of: indexName) == .dataset else {
      throw invalid("obs has no index dataset '\(indexName)'")
    }
    let index = try obs.dataset(indexName).readStrings()
    // `column-order` lists the columns (an empty float array when there are none).
    var columns = (try? obs.attributes.strings("column-order")) ?? []
    if columns.isEmpty {
      columns = try obs.members().filter { $0 != indexName && $0 != "__categories" }
    }
    return Observations(group: obs, indexName: indexName, index: index, columns: columns)
  }

  /// One gene name per row and where they came from.
  private func geneNames(obs: Observations, options: EmbeddingReadOptions) throws -> ([String], String) {
    if let wanted = options.geneColumn {
      if let column = EmbeddingReadOptions.match(wanted, in: obs.columns) {
        return try geneColumn(column, obs: obs)
      }
      if wanted == obs.indexName || wanted == "obs_names" || wanted == "_index" || wanted == "index" {
        return (try checkedIndex(obs), "obs index")
      }
      if options.geneColumnRequired {
        throw invalid(
          "obs has no column '\(wanted)' (columns: \(obs.columns.isEmpty ? "none" : EmbeddingReadOptions.list(obs.columns)); "
            + "the index '\(obs.indexName)' holds \(EmbeddingReadOptions.list(Array(obs.index.prefix(3)), limit: 3)), …)")
      }
    }
    // An explicit gene column wins over the index: in a per-cell file the index holds cell ids.
    if let column = EmbeddingReadOptions.detectGeneColumn(in: obs.columns) {
      return try geneColumn(column, obs: obs)
    }
    if !obs.index.isEmpty, obs.index.allSatisfy({ !$0.isEmpty && $0.allSatisfy({ $0.isASCII && $0.isNumber }) }) {
      throw invalid(
        "the obs index holds cell ids (\(EmbeddingReadOptions.list(Array(obs.index.prefix(3)), limit: 3)), …), "
          + "not gene names, and no obs column is named like a gene column; give the obs column with the genes "
          + "(--gene-column NAME; obs columns: \(obs.columns.isEmpty ? "none" : EmbeddingReadOptions.list(obs.columns))), "
          + "or --gene-column \(obs.indexName) if these numbers are the genes")
    }
    return (try checkedIndex(obs), "obs index")
  }

  private func checkedIndex(_ obs: Observations) throws -> [String] {
    if let row = obs.index.firstIndex(where: { $0.isEmpty }) {
      throw invalid("obs index row \(row): empty name")
    }
    return obs.index
  }

  /// The values of obs column `name` as strings, checked: every row has a gene name.
  private func geneColumn(_ name: String, obs: Observations) throws -> ([String], String) {
    let (values, kind) = try columnValues(name, obs: obs)
    guard values.count == obs.index.count else {
      throw invalid("obs column '\(name)' has \(values.count) rows, the obs index \(obs.index.count)")
    }
    for (row, value) in values.enumerated() {
      guard let value, !value.isEmpty else {
        throw invalid(
          "obs column '\(name)' row \(row) (obs name '\(obs.index[row])'): \(value == nil ? "missing value" : "empty gene name")")
      }
    }
    return (values.map { $0 ?? "" }, "obs column '\(name)'\(kind.isEmpty ? "" : " (\(kind))")")
  }

  /// The rows of an obs column (nil where a categorical code is -1) and its kind in words.
  func columnValues(_ name: String, obs: Observations) throws -> ([String?], String) {
    let label = "obs column '\(name)'"
    switch try obs.group.kind(of: name) {
    case .group?:
      let group = try obs.group.group(name)
      let encoding = (try? group.attributes.string("encoding-type")) ?? ""
      let hasParts = try group.contains("categories") && group.contains("codes")
      guard encoding == "categorical" || hasParts else {
        throw invalid("\(label) is \(encoding.isEmpty ? "a group" : encoding), not strings or a categorical")
      }
      let categories = try group.dataset("categories")
      return (try decode(codes: group.dataset("codes"), categories: categories, label: label), "categorical")
    case .dataset?:
      let dataset = try obs.group.dataset(name)
      if try obs.group.contains("__categories/\(name)") {
        let categories = try obs.group.dataset("__categories/\(name)")
        return (try decode(codes: dataset, categories: categories, label: label), "categorical")
      }
      switch try dataset.elementType {
      case .string?: return (try dataset.readStrings(), "")
      case .int32?, .int64?, .uint8?, .uint16?: return (try dataset.read(as: Int64.self).map { String($0) }, "integers")
      default: throw invalid("\(label) holds numbers, not gene names")
      }
    default:
      throw invalid("obs has no column '\(name)'")
    }
  }

  private func decode(codes: HDF5Dataset, categories: HDF5Dataset, label: String) throws -> [String?] {
    let names: [String]
    switch try categories.elementType {
    case .string?: names = try categories.readStrings()
    case .int32?, .int64?, .uint8?, .uint16?: names = try categories.read(as: Int64.self).map { String($0) }
    default: throw invalid("\(label): categories are neither strings nor integers")
    }
    return try codes.read(as: Int64.self).enumerated().map { row, code in
      if code == -1 { return nil }
      guard code >= 0, code < names.count else {
        throw invalid("\(label) row \(row): code \(code) is outside the \(names.count) categories")
      }
      return names[Int(code)]
    }
  }

  // MARK: - The matrix

  /// The matrix at `matrixPath` (`X` or `obsm/KEY`), dense or sparse, as float32 rows: row-major
  /// `[rows, columns]` values and the matrix's label (`X`, `X (csr_matrix)`, `obsm/X_grape`).
  ///
  /// - Throws: ``OPSDataError/invalidEmbedding(path:reason:)`` for a missing or malformed matrix,
  ///   or a value that is NaN, infinite or beyond float32 (naming its row and column).
  func matrixRows(_ matrixPath: String) throws -> (values: [Float], rows: Int, columns: Int, label: String) {
    let matrix = try openMatrix(matrixPath)
    guard AllocationLimit.fits(count: Double(matrix.rows) * Double(matrix.columns), size: MemoryLayout<Float>.stride) else {
      throw invalid(
        "\(matrix.label) (\(matrix.rows) × \(matrix.columns)) needs "
          + "\(AllocationLimit.gibibytes(Double(matrix.rows) * Double(matrix.columns), size: MemoryLayout<Float>.stride)), more than this machine can hold")
    }
    let values = try matrix.denseRows { row, column, value in
      invalid("\(matrixPath) row \(row), column \(column): \(value) is not a finite float32 value")
    }
    return (values, matrix.rows, matrix.columns, matrix.label)
  }

  private func openMatrix(_ matrixPath: String) throws -> AnnDataMatrix {
    switch try root.kind(of: matrixPath) {
    case .dataset?:
      let dataset = try root.dataset(matrixPath)
      let shape = try dataset.shape
      guard shape.count == 2 else {
        throw invalid("\(matrixPath) has shape \(shape), expected [cells or genes, d]")
      }
      guard let type = try dataset.elementType, type != .string else {
        throw invalid("\(matrixPath) does not hold numbers")
      }
      return .dense(dataset, label: matrixPath, rows: shape[0], columns: shape[1])
    case .group?:
      return try sparseMatrix(root.group(matrixPath), label: matrixPath)
    default:
      if matrixPath.hasPrefix("obsm/") {
        let keys = (try? root.kind(of: "obsm")) == .group ? ((try? root.group("obsm").members()) ?? []) : []
        throw invalid("no \(matrixPath) (obsm holds: \(keys.isEmpty ? "nothing" : EmbeddingReadOptions.list(keys)))")
      }
      throw invalid("no X matrix (not an AnnData file?)")
    }
  }

  private func sparseMatrix(_ group: HDF5Group, label: String) throws -> AnnDataMatrix {
    let attributes = group.attributes
    var format = ""
    var shape: [Int] = []
    if attributes.contains("encoding-type") {
      format = try attributes.string("encoding-type")
      if attributes.contains("shape") { shape = try attributes.ints("shape") }
    } else if attributes.contains("h5sparse_format") {
      format = try attributes.string("h5sparse_format") + "_matrix"
      if attributes.contains("h5sparse_shape") { shape = try attributes.ints("h5sparse_shape") }
    }
    guard format == "csr_matrix" || format == "csc_matrix" else {
      throw invalid("\(label) is \(format.isEmpty ? "a group without encoding-type" : format), not a dense array, csr_matrix or csc_matrix")
    }
    guard shape.count == 2, shape.allSatisfy({ $0 >= 0 && $0 < 1 << 48 }) else {
      throw invalid("\(label) (\(format)) has no valid shape attribute (found \(shape))")
    }
    for member in ["data", "indices", "indptr"] where try group.kind(of: member) != .dataset {
      throw invalid("\(label) (\(format)) has no \(member) dataset")
    }
    let data = try group.dataset("data").read(as: Double.self)
    let indices = try group.dataset("indices").read(as: Int64.self)
    let indptr = try group.dataset("indptr").read(as: Int64.self)
    let byRow = format == "csr_matrix"
    let major = byRow ? shape[0] : shape[1]
    let minor = byRow ? shape[1] : shape[0]
    let majorNoun = byRow ? "rows" : "columns"
    guard indptr.count == major + 1 else {
      throw invalid("\(label)/indptr has \(indptr.count) entries for \(major) \(majorNoun) (expected \(major + 1))")
    }
    guard indices.count == data.count else {
      throw invalid("\(label)/indices has \(indices.count) entries, \(label)/data \(data.count)")
    }
    guard indptr.first == 0 else {
      throw invalid("\(label)/indptr entry 0 is \(indptr.first ?? 0), expected 0")
    }
    for k in 1..<indptr.count where indptr[k] < indptr[k - 1] {
      throw invalid("\(label)/indptr entry \(k) (\(indptr[k])) is smaller than entry \(k - 1) (\(indptr[k - 1]))")
    }
    guard indptr.last == Int64(data.count) else {
      throw invalid("\(label)/indptr ends at \(indptr.last ?? 0), but \(label)/data has \(data.count) entries")
    }
    if let k = indices.firstIndex(where: { $0 < 0 || $0 >= minor }) {
      throw invalid("\(label)/indices entry \(k) is \(indices[k]), outside 0..<\(minor) (\(byRow ? "columns" : "rows"))")
    }
    return .sparse(
      label: "\(label) (\(format))", byRow: byRow, rows: shape[0], columns: shape[1], data: data,
      indices: indices.map { Int($0) }, indptr: indptr.map { Int($0) })
  }
}

/// A dense or sparse AnnData matrix, read for one pass of per-gene means.
private enum AnnDataMatrix {
  case dense(HDF5Dataset, label: String, rows: Int, columns: Int)
  case sparse(label: String, byRow: Bool, rows: Int, columns: Int, data: [Double], indices: [Int], indptr: [Int])

  var rows: Int {
    switch self {
    case .dense(_, _, let rows, _), .sparse(_, _, let rows, _, _, _, _): return rows
    }
  }

  var columns: Int {
    switch self {
    case .dense(_, _, _, let columns), .sparse(_, _, _, let columns, _, _, _): return columns
    }
  }

  var label: String {
    switch self {
    case .dense(_, let label, _, _), .sparse(let label, _, _, _, _, _, _): return label
    }
  }

  /// Every value as float32, row-major `[rows, columns]` (zeros where a sparse matrix stores
  /// nothing); `nonFinite` is the error for a value at (row, column) that is NaN, infinite or
  /// beyond float32.
  func denseRows(nonFinite: (Int, Int, Double) -> OPSDataError) throws -> [Float] {
    func check(_ value: Double, _ row: Int, _ column: Int) throws {
      guard value.isFinite, abs(value) <= Double(Float.greatestFiniteMagnitude) else {
        throw nonFinite(row, column, value)
      }
    }
    switch self {
    case .dense(let dataset, _, let rows, let columns):
      var out = [Float](repeating: 0, count: rows * columns)
      let chunk = max(1, (1 << 20) / max(columns, 1))
      var start = 0
      while start < rows {
        let end = min(rows, start + chunk)
        let values = try dataset.readRows(start..<end, as: Double.self)
        for (k, value) in values.enumerated() {
          try check(value, start + k / columns, k % columns)
          out[start * columns + k] = Float(value)
        }
        start = end
      }
      return out
    case .sparse(_, let byRow, let rows, let columns, let data, let indices, let indptr):
      var out = [Float](repeating: 0, count: rows * columns)
      for major in 0..<(indptr.count - 1) {
        for k in indptr[major]..<indptr[major + 1] {
          let (row, column) = byRow ? (major, indices[k]) : (indices[k], major)
          try check(data[k], row, column)
          out[row * columns + column] += Float(data[k])
        }
      }
      return out
    }
  }

  /// Adds every row to the mean of its gene; `nonFinite` is the error for a value at (row,
  /// column) that is NaN, infinite or beyond float32.
  func accumulate(
    into means: inout GeneMeans, genes: [String], nonFinite: (Int, Int, Double) -> OPSDataError
  ) throws {
    func check(_ value: Double, _ row: Int, _ column: Int) throws {
      guard value.isFinite, abs(value) <= Double(Float.greatestFiniteMagnitude) else {
        throw nonFinite(row, column, value)
      }
    }
    switch self {
    case .dense(let dataset, _, let rows, let columns):
      let chunk = max(1, (1 << 20) / columns)
      var start = 0
      while start < rows {
        let end = min(rows, start + chunk)
        let values = try dataset.readRows(start..<end, as: Double.self)
        for row in start..<end {
          let slot = means.beginRow(gene: genes[row])
          let base = (row - start) * columns
          for column in 0..<columns {
            let value = values[base + column]
            try check(value, row, column)
            means.add(value, slot: slot, column: column)
          }
        }
        start = end
      }
    case .sparse(_, let byRow, let rows, _, let data, let indices, let indptr):
      if byRow {
        for row in 0..<rows {
          let slot = means.beginRow(gene: genes[row])
          for k in indptr[row]..<indptr[row + 1] {
            try check(data[k], row, indices[k])
            means.add(data[k], slot: slot, column: indices[k])
          }
        }
      } else {
        let slots = (0..<rows).map { means.beginRow(gene: genes[$0]) }
        for column in 0..<columns {
          for k in indptr[column]..<indptr[column + 1] {
            try check(data[k], indices[k], column)
            means.add(data[k], slot: slots[indices[k]], column: column)
          }
        }
      }
    }
  }
}
