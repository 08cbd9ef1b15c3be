/// Per-cell codes (e.g. the style codes of `grape encode`) with the labels of their cells.
///
/// On disk: a float dataset `[N, d]` (by default `/styles`) with `/obs/gene`, `/obs/batch`, `/genes`
/// and `/batches` copied from the cell store, as `grape evaluate --cells` reads it.
public struct CellCodes: Sendable, Equatable {
  /// The dataset name, without the leading slash (e.g. `styles`).
  public let name: String
  /// The codes, row-major `[count, dimension]`.
  public let values: [Float]
  /// The number of columns, d.
  public let dimension: Int
  /// Each cell's index into ``genes``.
  public let geneOfCell: [Int32]
  /// Each cell's index into ``batches``.
  public let batchOfCell: [Int32]
  /// Gene names.
  public let genes: [String]
  /// Batch names.
  public let batches: [String]

  /// The number of cells, N.
  public var count: Int { geneOfCell.count }

  /// Per-cell codes from their parts.
  ///
  /// - Throws: ``OPSDataError/invalidArgument(name:message:)`` when sizes or indices disagree.
  public init(
    name: String = "styles", values: [Float], dimension: Int, geneOfCell: [Int32],
    batchOfCell: [Int32],
    genes: [String], batches: [String]
  ) throws {
    func invalid(_ message: String) -> OPSDataError {
      OPSDataError.invalidArgument(name: "cell codes", message: message)
    }
    guard dimension > 0 else { throw invalid("dimension \(dimension) is not positive") }
    guard values.count == geneOfCell.count * dimension else {
      throw invalid("\(values.count) values for \(geneOfCell.count) cells × \(dimension)")
    }
    guard batchOfCell.count == geneOfCell.count else {
      throw invalid("\(batchOfCell.count) batch labels for \(geneOfCell.count) cells")
    }
    if let bad = geneOfCell.first(where: { $0 < 0 || Int($0) >= genes.count }) {
      throw invalid("gene index \(bad) outside 0..<\(genes.count)")
    }
    if let bad = batchOfCell.first(where: { $0 < 0 || Int($0) >= batches.count }) {
      throw invalid("batch index \(bad) outside 0..<\(batches.count)")
    }
    self.name = name.hasPrefix("/") ? String(name.dropFirst()) : name
    self.values = values
    self.dimension = dimension
    self.geneOfCell = geneOfCell
    self.batchOfCell = batchOfCell
    self.genes = genes
    self.batches = batches
  }

  /// Reads per-cell codes from `path`.
  ///
  /// - Parameter dataset: the codes' dataset; by default `/styles`, else `/codes`, else the only
  ///   two-dimensional float dataset at the root.
  /// - Throws: ``OPSDataError/invalidEmbedding(path:reason:)`` naming what is missing.
  public static func read(from path: String, dataset: String? = nil) throws -> CellCodes {
    let file = try HDF5File.open(path)
    let root = try file.root
    func invalid(_ reason: String) -> OPSDataError {
      OPSDataError.invalidEmbedding(path: path, reason: reason)
    }
    let name: String
    if let dataset {
      name = dataset.hasPrefix("/") ? String(dataset.dropFirst()) : dataset
      guard try root.kind(of: name) == .dataset else { throw invalid("no dataset /\(name)") }
    } else if try root.kind(of: "styles") == .dataset {
      name = "styles"
    } else if try root.kind(of: "codes") == .dataset {
      name = "codes"
    } else {
      var candidates: [String] = []
      for member in try root.members() where member != "images" && member != "embedding" {
        guard try root.kind(of: member) == .dataset else { continue }
        let d = try root.dataset(member)
        if try d.shape.count == 2, let type = try d.elementType,
          type == .float32 || type == .float64
        {
          candidates.append(member)
        }
      }
      guard candidates.count == 1, let only = candidates.first else {
        throw invalid(
          candidates.isEmpty
            ? "no per-cell code dataset (/styles or a 2-D float dataset)"
            : "several possible code datasets \(candidates.map { "/" + $0 }); name one")
      }
      name = only
    }
    for required in ["obs/gene", "obs/batch", "genes", "batches"]
    where try root.kind(of: required) != .dataset {
      throw invalid("missing dataset /\(required)")
    }
    let codes = try root.dataset(name)
    let shape = try codes.shape
    guard shape.count == 2 else {
      throw invalid("/\(name) has shape \(shape), expected [cells, d]")
    }
    let geneOfCell = try root.dataset("obs/gene").read(as: Int32.self)
    guard geneOfCell.count == shape[0] else {
      throw invalid("/obs/gene has \(geneOfCell.count) entries for \(shape[0]) rows of /\(name)")
    }
    do {
      return try CellCodes(
        name: name, values: try codes.read(as: Float.self), dimension: shape[1],
        geneOfCell: geneOfCell,
        batchOfCell: try root.dataset("obs/batch").read(as: Int32.self),
        genes: try root.dataset("genes").readStrings(),
        batches: try root.dataset("batches").readStrings())
    } catch let error as OPSDataError {
      if case .invalidArgument(_, let message) = error { throw invalid(message) }
      throw error
    }
  }

  /// Writes the codes and labels to a new HDF5 file at `path` (temporary name, then renamed), with
  /// the toolkit version and the time as root attributes (an AnnData file for a `.h5ad` path).
  public func write(to path: String) throws {
    try write(to: path, fields: [], provenance: OutputProvenance())
  }

  /// The mean code of each gene that has cells, as an embedding (genes without cells are left out).
  public func perGeneMeans(source: String = "style-mean") throws -> GeneEmbedding {
    var sums = [Double](repeating: 0, count: genes.count * dimension)
    var counts = [Int](repeating: 0, count: genes.count)
    for cell in 0..<count {
      let g = Int(geneOfCell[cell])
      counts[g] += 1
      for j in 0..<dimension { sums[g * dimension + j] += Double(values[cell * dimension + j]) }
    }
    var names: [String] = []
    var means: [Float] = []
    for g in genes.indices where counts[g] > 0 {
      names.append(genes[g])
      for j in 0..<dimension { means.append(Float(sums[g * dimension + j] / Double(counts[g]))) }
    }
    return try GeneEmbedding(genes: names, values: means, dimension: dimension, source: source)
  }
}
