import TensorCore

/// Cells a GRAPE model trains on or encodes: images with a gene and a batch per cell.
///
/// The HDF5 cell store conforms (see `CellStore+CellSource.swift`); tests use in-memory sources.
public protocol CellSource: AnyObject {
  /// Number of cells.
  var cellCount: Int { get }
  /// Gene names (the control among them).
  var geneNames: [String] { get }
  /// Batch names.
  var batchNames: [String] { get }
  /// Channel names.
  var channelNames: [String] { get }
  /// Channels, height and width of every crop.
  var imageShape: [Int] { get }
  /// Whether pixels are stored as float32 (fed as stored) rather than integers.
  var storesFloatPixels: Bool { get }
  /// Gene index of every cell.
  var geneOfCell: [Int] { get }
  /// Batch index of every cell.
  var batchOfCell: [Int] { get }
  /// Index of the control (non-targeting) gene in `geneNames`, if the source names one.
  var controlGene: Int? { get }
  /// Pixels of the cells at `indices`, as float32 [indices.count · C · H · W].
  func pixels(_ indices: [Int]) throws -> [Float]
}

extension CellSource {
  /// The cells of every batch, in store order: element `b` lists the cells of `batchNames[b]`
  /// (cells whose batch index is out of range are left out).
  public var cellsOfBatch: [[Int]] {
    var out = [[Int]](repeating: [], count: batchNames.count)
    for (i, b) in batchOfCell.enumerated() where b >= 0 && b < out.count { out[b].append(i) }
    return out
  }
}

/// A source held in memory (tests, small screens).
public final class InMemoryCellSource: CellSource {
  public let geneNames: [String]
  public let batchNames: [String]
  public let channelNames: [String]
  public let imageShape: [Int]
  public let storesFloatPixels: Bool
  public let geneOfCell: [Int]
  public let batchOfCell: [Int]
  public let controlGene: Int?
  let data: [Float]

  /// Cells given as a flat [N · C · H · W] array.
  public init(
    pixels: [Float], imageShape: [Int], genes: [Int], batches: [Int], geneNames: [String], batchNames: [String],
    channelNames: [String]? = nil, floatPixels: Bool = true, controlGene: Int? = nil
  ) {
    precondition(pixels.count == genes.count * imageShape.reduce(1, *) && genes.count == batches.count, "InMemoryCellSource: sizes disagree")
    self.data = pixels
    self.imageShape = imageShape
    self.geneOfCell = genes
    self.batchOfCell = batches
    self.geneNames = geneNames
    self.batchNames = batchNames
    self.channelNames = channelNames ?? (0..<imageShape[0]).map { "ch\($0)" }
    self.storesFloatPixels = floatPixels
    self.controlGene = controlGene
  }

  public var cellCount: Int { geneOfCell.count }

  public func pixels(_ indices: [Int]) throws -> [Float] {
    let size = imageShape.reduce(1, *)
    var out = [Float](repeating: 0, count: indices.count * size)
    for (k, i) in indices.enumerated() {
      for j in 0..<size { out[k * size + j] = data[i * size + j] }
    }
    return out
  }
}
