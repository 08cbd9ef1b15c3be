import GrapeSupport
import Foundation
import OPSData
import TensorCore

/// How stored pixel values become network inputs.
///
/// Four kinds, recorded in a run's `config.json` as `input_transform`:
/// - `identity`: float32 stores are fed exactly as stored (they were normalised on import);
/// - `affine`: per channel `(x − offset) · scale`;
/// - `image`: each crop's channels standardised by their own mean and standard deviation, as the
///   RxRx1-WILDS reference pipeline does (no statistics of other cells, so none of a test batch);
/// - `controls`: GRAPE's preprocessing (paper §3.2) — each channel's 0.1/99.9 percentiles mapped
///   to 0/1 and clipped (`offset`, `scale`), then z-scored with the mean and standard deviation of
///   the control cells of the cell's own batch (`batches`).
public struct InputTransform: Codable, Equatable, Sendable {
  /// What the transform does to a pixel.
  public enum Kind: String, ConfigChoice {
    /// Pixels fed as stored.
    case identity
    /// Per channel `(x − offset) · scale`.
    case affine
    /// The percentile mapping, then per-batch z-scores by the control cells.
    case controls
    /// Each crop's channels standardised by their own mean and standard deviation.
    case image
  }

  /// `identity`, `affine` or `controls`.
  public var kind: Kind
  /// Per-channel offsets (`affine`, `controls`).
  public var offset: [Float]
  /// Per-channel scales (`affine`, `controls`).
  public var scale: [Float]
  /// Per-batch statistics of the control cells (`controls`).
  public var batches: [BatchStatistics]?
  /// How the numbers were chosen.
  public var note: String

  /// The channel statistics of one batch's control cells, after the percentile mapping.
  public struct BatchStatistics: Codable, Equatable, Sendable {
    /// The batch name, as in the store's `/batches`.
    public var name: String
    /// Per-channel mean.
    public var mean: [Float]
    /// Per-channel standard deviation.
    public var std: [Float]
    /// Cells the statistics were computed from.
    public var cells: Int
    /// Whether those cells were controls (false: the batch has none, so all its cells were used).
    public var controls: Bool

    public init(name: String, mean: [Float], std: [Float], cells: Int, controls: Bool) {
      self.name = name
      self.mean = mean
      self.std = std
      self.cells = cells
      self.controls = controls
    }
  }

  public init(kind: Kind, offset: [Float], scale: [Float], batches: [BatchStatistics]? = nil, note: String) {
    self.kind = kind
    self.offset = offset
    self.scale = scale
    self.batches = batches
    self.note = note
  }

  /// Feeds pixels unchanged.
  public static let identity = InputTransform(kind: .identity, offset: [], scale: [], note: "float32 store fed as stored")

  /// Applies the transform to pixels laid out [N, C, H, W]; `batchNames` holds each cell's batch
  /// (needed by `controls`, which must have been ``bound(to:)`` to the cells' source).
  ///
  /// - Throws: when a cell's batch has no statistics in a `controls` transform.
  public func apply(_ pixels: [Float], shape: [Int], batchNames: [String]) throws -> Tensor {
    switch kind {
    case .affine:
      let c = shape[1]
      return (Tensor(pixels, shape: shape) - Tensor(offset, shape: [1, c, 1, 1])) * Tensor(scale, shape: [1, c, 1, 1])
    case .controls:
      let (n, c) = (shape[0], shape[1])
      let plane = shape.dropFirst(2).reduce(1, *)
      let byName = Dictionary((batches ?? []).enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
      var out = pixels
      for cell in 0..<n {
        guard let row = byName[batchNames[cell]], let stats = batches?[row] else {
          throw TrainingError.dataMismatch("input transform: no control statistics for batch '\(batchNames[cell])'")
        }
        for ch in 0..<c {
          let (o, s) = (offset[ch], scale[ch])
          let (m, inv) = (stats.mean[ch], 1 / stats.std[ch])
          let base = (cell * c + ch) * plane
          for i in base..<(base + plane) { out[i] = (min(max((pixels[i] - o) * s, 0), 1) - m) * inv }
        }
      }
      return Tensor(out, shape: shape)
    case .image:
      return Tensor(InputTransform.standardizedPerImage(pixels, shape: shape), shape: shape)
    case .identity:
      return Tensor(pixels, shape: shape)
    }
  }

  /// Per-image standardisation: every (crop, channel) plane of `pixels` [N, C, H, W] becomes
  /// (x − mean) / std over its own H·W values (population std; a constant plane becomes zeros),
  /// as the RxRx1-WILDS reference transform. Statistics are accumulated in double precision.
  public static func standardizedPerImage(_ pixels: [Float], shape: [Int]) -> [Float] {
    let planes = shape.prefix(2).reduce(1, *)
    let plane = shape.dropFirst(2).reduce(1, *)
    var out = pixels
    guard plane > 0 else { return out }
    for p in 0..<planes {
      let base = p * plane
      var sum = 0.0
      for i in base..<(base + plane) { sum += Double(pixels[i]) }
      let mean = sum / Double(plane)
      var sumSq = 0.0
      for i in base..<(base + plane) {
        let d = Double(pixels[i]) - mean
        sumSq += d * d
      }
      let sd = (sumSq / Double(plane)).squareRoot()
      let inv = sd > 1e-6 * max(1, abs(mean)) ? 1 / sd : 0
      for i in base..<(base + plane) { out[i] = Float((Double(pixels[i]) - mean) * inv) }
    }
    return out
  }

  /// The per-image standardisation (kind `image`).
  public static let perImage = InputTransform(
    kind: .image, offset: [], scale: [],
    note: "each crop's channels standardised by their own mean and std over the crop (RxRx1-WILDS): x' = (x - mean[cell, channel]) / std[cell, channel]")

  /// This transform with statistics for every batch of `source`: a `controls` transform recorded
  /// in training is completed with the statistics of batches it has not seen, computed from that
  /// source's own control cells (as GRAPE normalises each experiment batch; the cells are drawn
  /// with a fixed seed, so the result is reproducible). Other kinds are returned unchanged.
  public func bound(to source: CellSource) throws -> InputTransform {
    guard kind == .controls else { return self }
    let known = Set((batches ?? []).map(\.name))
    let missing = source.batchNames.indices.filter { !known.contains(source.batchNames[$0]) }
    if missing.isEmpty { return self }
    var rng = RandomGenerator(seed: 0xB0D)
    var bound = self
    bound.batches = (batches ?? []) + (try InputTransform.controlStatistics(of: source, batches: missing, offset: offset, scale: scale, rng: &rng))
    return bound
  }

  // MARK: Choosing a transform

  /// Per-channel percentile scaling chosen from a seeded sample of cells: the `low` and `high`
  /// percentiles of each channel are mapped to 0 and 1 (values outside are kept, not clipped).
  public static func percentile(
    of source: CellSource, sampleCells: Int = 2000, low: Double = 0.1, high: Double = 99.9, rng: inout RandomGenerator
  ) throws -> InputTransform {
    let (offsets, scales, n) = try percentileMapping(of: source, sampleCells: sampleCells, low: low, high: high, rng: &rng)
    return InputTransform(
      kind: .affine, offset: offsets, scale: scales,
      note: "per-channel percentiles \(low)/\(high) of \(n) sampled cells mapped to 0/1: x' = (x - offset) * scale")
  }

  /// GRAPE's preprocessing: the percentile mapping of ``percentile(of:sampleCells:low:high:rng:)``,
  /// clipped to [0, 1], then per batch and channel a z-score with the mean and standard deviation
  /// of (up to `controlCells` sampled) control cells of that batch. A batch without control cells
  /// (or a source without a control) uses all its cells.
  ///
  /// `batches` (indices into the source's batch names; all by default) limits the statistics to
  /// some batches, for example the training batches of a classifier; ``bound(to:)`` adds the
  /// others, each from its own control cells, when the transform meets them.
  public static func controls(
    of source: CellSource, batches: [Int]? = nil, sampleCells: Int = 2000, controlCells: Int = 1000, rng: inout RandomGenerator
  ) throws -> InputTransform {
    let (offsets, scales, n) = try percentileMapping(of: source, sampleCells: sampleCells, low: 0.1, high: 99.9, rng: &rng)
    let stats = try controlStatistics(
      of: source, batches: batches ?? Array(source.batchNames.indices), offset: offsets, scale: scales, cells: controlCells, rng: &rng)
    return InputTransform(
      kind: .controls, offset: offsets, scale: scales, batches: stats,
      note: "per-channel percentiles 0.1/99.9 of \(n) sampled cells mapped to 0/1 and clipped, "
        + "then z-scored per batch with the mean and std of its control cells: x' = (clip((x - offset) * scale, 0, 1) - mean[batch]) / std[batch]")
  }

  static func percentileMapping(
    of source: CellSource, sampleCells: Int, low: Double, high: Double, rng: inout RandomGenerator
  ) throws -> (offsets: [Float], scales: [Float], cells: Int) {
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
      // numpy's linear interpolation, as import's percentile normalisation (``linearQuantile(sorted:_:)``).
      let lo = values.isEmpty ? 0 : Float(linearQuantile(sorted: values, low / 100))
      let hi = values.isEmpty ? 0 : Float(linearQuantile(sorted: values, high / 100))
      offsets.append(lo)
      scales.append(hi > lo ? 1 / (hi - lo) : 1)
    }
    return (offsets, scales, n)
  }

  /// Mean and standard deviation per channel of clip((x − offset) · scale, 0, 1) over up to
  /// `cells` sampled control cells of each of `batches` (all cells of a batch without controls).
  static func controlStatistics(
    of source: CellSource, batches: [Int], offset: [Float], scale: [Float], cells: Int = 1000, rng: inout RandomGenerator
  ) throws -> [BatchStatistics] {
    let c = source.imageShape[0]
    let plane = source.imageShape[1] * source.imageShape[2]
    var byBatch = [[Int]](repeating: [], count: source.batchNames.count)
    var controlsByBatch = [[Int]](repeating: [], count: source.batchNames.count)
    for (cell, b) in source.batchOfCell.enumerated() {
      byBatch[b].append(cell)
      if let control = source.controlGene, source.geneOfCell[cell] == control { controlsByBatch[b].append(cell) }
    }
    var out: [BatchStatistics] = []
    for b in batches {
      let useControls = !controlsByBatch[b].isEmpty
      var pool = useControls ? controlsByBatch[b] : byBatch[b]
      guard !pool.isEmpty else {
        throw TrainingError.dataMismatch("batch '\(source.batchNames[b])' has no cells to normalise by")
      }
      rng.shuffle(&pool)
      let chosen = Array(pool.prefix(cells)).sorted()
      let px = try source.pixels(chosen)
      var mean = [Float](), std = [Float]()
      for ch in 0..<c {
        var sum = 0.0, sumSq = 0.0
        for k in 0..<chosen.count {
          let base = (k * c + ch) * plane
          for i in base..<(base + plane) {
            let v = Double(min(max((px[i] - offset[ch]) * scale[ch], 0), 1))
            sum += v
            sumSq += v * v
          }
        }
        let count = Double(chosen.count * plane)
        let m = sum / count
        let sd = (max(sumSq / count - m * m, 0)).squareRoot()
        mean.append(Float(m))
        std.append(sd > 1e-6 ? Float(sd) : 1)
      }
      out.append(BatchStatistics(name: source.batchNames[b], mean: mean, std: std, cells: chosen.count, controls: useControls))
    }
    return out
  }
}

extension CellSource {
  /// Network inputs [indices.count, C, H, W]: the cells' pixels through `transform` (which must
  /// be ``InputTransform/bound(to:)`` to this source when it is a `controls` transform).
  public func inputs(_ indices: [Int], transform: InputTransform) throws -> Tensor {
    try transform.apply(try pixels(indices), shape: [indices.count] + imageShape, batchNames: indices.map { batchNames[batchOfCell[$0]] })
  }
}

/// How the input transform of an integer (uint16) store is chosen at training time
/// (`input_normalization`); float stores are always fed as stored.
public enum InputNormalization: String, ConfigChoice {
  /// GRAPE's preprocessing: the percentile mapping, then per-batch z-scores by the control cells
  /// (``InputTransform/controls(of:rng:)``).
  case controls
  /// The percentile mapping alone (``InputTransform/percentile(of:rng:)``).
  case percentile
  /// Per-image standardisation (``InputTransform/perImage``): each crop's channels by their own
  /// mean and standard deviation, as the RxRx1-WILDS reference pipeline; uses no statistics of
  /// other cells, so nothing of a test batch.
  case image

  /// The transform this choice makes for `source`, with statistics drawn by `rng`.
  public func transform(of source: CellSource, rng: inout RandomGenerator) throws -> InputTransform {
    switch self {
    case .controls: return try InputTransform.controls(of: source, rng: &rng)
    case .percentile: return try InputTransform.percentile(of: source, rng: &rng)
    case .image: return .perImage
    }
  }
}
