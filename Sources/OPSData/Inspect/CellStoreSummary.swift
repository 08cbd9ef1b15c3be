import Foundation

/// A summary of a cell store: sizes, labels with counts, and per-channel statistics on a sample.
public struct CellStoreSummary: Sendable {
  /// Statistics of one channel over the sampled cells.
  public struct ChannelStatistics: Sendable, Equatable {
    /// Channel name.
    public let name: String
    /// Smallest and largest sample.
    public let min: Double
    /// Largest sample.
    public let max: Double
    /// Mean and population standard deviation.
    public let mean: Double
    /// Population standard deviation.
    public let std: Double
    /// The 0.1 and 99.9 percentiles (linear interpolation, as numpy).
    public let p001: Double
    /// The 99.9 percentile.
    public let p999: Double
  }

  /// The store's path.
  public let path: String
  /// Number of cells.
  public let cells: Int
  /// Channel names.
  public let channels: [String]
  /// Crop height and width.
  public let height: Int
  /// Crop width.
  public let width: Int
  /// Stored sample type.
  public let pixelType: PixelType
  /// Filters on `/images` (e.g. `shuffle`, `deflate`).
  public let filters: [String]
  /// Genes with their cell counts, in `/genes` order.
  public let genes: [(name: String, cells: Int)]
  /// Batches with their cell counts, in `/batches` order.
  public let batches: [(name: String, cells: Int)]
  /// The control gene.
  public let control: String
  /// Optional `/obs` fields present.
  public let provenance: [String]
  /// Root members other than the standard ones (e.g. `truth`).
  public let extras: [String]
  /// The indices of the cells sampled for the statistics.
  public let sampledCells: [Int]
  /// Per-channel statistics over the sampled cells.
  public let statistics: [ChannelStatistics]
  /// The `preprocessing` JSON text.
  public let preprocessing: String

  /// Summarises `store`, computing channel statistics on up to `sampleSize` evenly spaced cells.
  public init(store: CellStore, sampleSize: Int = 1000) throws {
    path = store.path
    cells = store.count
    channels = store.channels
    height = store.height
    width = store.width
    pixelType = store.pixelType
    filters = try store.file.dataset(CellStoreFormat.images).filters
    genes = Array(zip(store.genes, store.cellsPerGene)).map { (name: $0.0, cells: $0.1) }
    batches = Array(zip(store.batches, store.cellsPerBatch)).map { (name: $0.0, cells: $0.1) }
    control = store.control
    provenance = try store.provenanceFields()
    extras = try store.file.root.members().filter {
      !["images", "obs", "genes", "batches"].contains($0)
    }
    let n = Swift.min(Swift.max(sampleSize, 0), store.count)
    let sample = n == 0 ? [] : (0..<n).map { k in k * store.count / n }
    sampledCells = sample
    let plane = store.height * store.width
    var columns = [[Float]](repeating: [], count: store.channels.count)
    for c in columns.indices { columns[c].reserveCapacity(sample.count * plane) }
    var start = 0
    while start < sample.count {
      let batch = Array(sample[start..<Swift.min(start + 256, sample.count)])
      let images = try store.images(at: batch)
      for k in batch.indices {
        for c in 0..<store.channels.count {
          let offset = (k * store.channels.count + c) * plane
          columns[c].append(contentsOf: images[offset..<(offset + plane)])
        }
      }
      start += 256
    }
    statistics = zip(store.channels, columns).map { name, values in
      Self.statistics(name: name, values: values)
    }
    preprocessing = store.preprocessing
  }

  static func statistics(name: String, values: [Float]) -> ChannelStatistics {
    guard !values.isEmpty else {
      return ChannelStatistics(
        name: name, min: .nan, max: .nan, mean: .nan, std: .nan, p001: .nan, p999: .nan)
    }
    let sorted = values.sorted()
    var sum = 0.0
    for v in values { sum += Double(v) }
    let mean = sum / Double(values.count)
    var squares = 0.0
    for v in values { squares += (Double(v) - mean) * (Double(v) - mean) }
    func quantile(_ q: Double) -> Double { linearQuantile(sorted: sorted, q) }
    return ChannelStatistics(
      name: name, min: Double(sorted[0]), max: Double(sorted[sorted.count - 1]), mean: mean,
      std: (squares / Double(values.count)).squareRoot(), p001: quantile(0.001),
      p999: quantile(0.999))
  }

  /// A readable multi-line report.
  public func render() -> String {
    var lines: [String] = []
    lines.append("cell store \(path)")
    lines.append("  cells       \(cells)")
    lines.append(
      "  images      [\(cells), \(channels.count), \(height), \(width)] \(pixelType.rawValue)"
        + (filters.isEmpty ? "" : " (\(filters.joined(separator: "+")))"))
    lines.append("  channels    \(channels.joined(separator: ", "))")
    lines.append(
      "  control     \(control)"
        + (genes.first(where: { $0.name == control }).map { " (\($0.cells) cells)" } ?? " (absent)")
    )
    let counts = genes.map(\.cells).sorted()
    let median = counts.isEmpty ? 0 : counts[counts.count / 2]
    lines.append(
      "  genes       \(genes.count) (cells per gene: min \(counts.first ?? 0), median \(median), max \(counts.last ?? 0))"
    )
    let shown = genes.count <= 40 ? genes : Array(genes.prefix(40))
    for chunk in stride(from: 0, to: shown.count, by: 4) {
      lines.append(
        "    "
          + shown[chunk..<Swift.min(chunk + 4, shown.count)].map { "\($0.name) \($0.cells)" }
          .joined(separator: ", "))
    }
    if genes.count > shown.count { lines.append("    ... and \(genes.count - shown.count) more") }
    lines.append("  batches     \(batches.count)")
    let shownBatches = batches.count <= 40 ? batches : Array(batches.prefix(40))
    for chunk in stride(from: 0, to: shownBatches.count, by: 4) {
      lines.append(
        "    "
          + shownBatches[chunk..<Swift.min(chunk + 4, shownBatches.count)].map {
            "\($0.name) \($0.cells)"
          }.joined(separator: ", "))
    }
    if batches.count > shownBatches.count {
      lines.append("    ... and \(batches.count - shownBatches.count) more")
    }
    if !provenance.isEmpty {
      lines.append("  provenance  /obs/" + provenance.joined(separator: ", /obs/"))
    }
    if !extras.isEmpty { lines.append("  also        /" + extras.joined(separator: ", /")) }
    lines.append("  statistics on \(sampledCells.count) cells:")
    lines.append("    channel          min        max       mean        std      p0.1     p99.9")
    for s in statistics {
      let name = s.name.padding(toLength: Swift.max(12, s.name.count), withPad: " ", startingAt: 0)
      lines.append(
        "    \(name) "
          + [s.min, s.max, s.mean, s.std, s.p001, s.p999].map { Self.format($0) }.joined(
            separator: " "))
    }
    lines.append("  preprocessing \(preprocessing)")
    return lines.joined(separator: "\n")
  }

  static func format(_ value: Double) -> String {
    let text =
      abs(value) >= 1e5 || (abs(value) < 1e-3 && value != 0)
      ? String(format: "%.3e", value) : String(format: "%.4f", value)
    return String(repeating: " ", count: Swift.max(0, 10 - text.count)) + text
  }
}
