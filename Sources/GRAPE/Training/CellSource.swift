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
  /// Pixels of the cells at `indices`, as float32 [indices.count · C · H · W].
  func pixels(_ indices: [Int]) throws -> [Float]
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
  let data: [Float]

  /// Cells given as a flat [N · C · H · W] array.
  public init(
    pixels: [Float], imageShape: [Int], genes: [Int], batches: [Int], geneNames: [String], batchNames: [String],
    channelNames: [String]? = nil, floatPixels: Bool = true
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

extension InputTransform {
  /// Applies the transform to pixels laid out [N, C, H, W].
  public func apply(_ pixels: [Float], shape: [Int]) -> Tensor {
    let t = Tensor(pixels, shape: shape)
    guard kind == "affine" else { return t }
    let c = shape[1]
    let off = Tensor(offset, shape: [1, c, 1, 1])
    let sc = Tensor(scale, shape: [1, c, 1, 1])
    return (t - off) * sc
  }

  /// Per-channel percentile scaling chosen from a seeded sample of cells: the `low` and `high`
  /// percentiles of each channel are mapped to 0 and 1 (values outside are kept, not clipped).
  public static func percentile(
    of source: CellSource, sampleCells: Int = 2000, low: Double = 0.1, high: Double = 99.9, rng: inout RandomGenerator
  ) throws -> InputTransform {
    let n = min(sampleCells, source.cellCount)
    var indices = Array(0..<source.cellCount)
    rng.shuffle(&indices)
    let chosen = Array(indices.prefix(n)).sorted()
    let px = try source.pixels(chosen)
    let c = source.imageShape[0]
    let plane = source.imageShape[1] * source.imageShape[2]
    var offsets: [Float] = []
    var scales: [Float] = []
    for ch in 0..<c {
      var values: [Float] = []
      values.reserveCapacity(n * plane)
      for k in 0..<n { values += px[(k * c + ch) * plane..<((k * c + ch) + 1) * plane] }
      values.sort()
      func q(_ p: Double) -> Float { values.isEmpty ? 0 : values[min(values.count - 1, Int((p / 100) * Double(values.count - 1)))] }
      let lo = q(low)
      let hi = q(high)
      offsets.append(lo)
      scales.append(hi > lo ? 1 / (hi - lo) : 1)
    }
    return InputTransform(
      kind: "affine", offset: offsets, scale: scales,
      note: "per-channel percentiles \(low)/\(high) of \(n) sampled cells mapped to 0/1: x' = (x - offset) * scale")
  }
}
