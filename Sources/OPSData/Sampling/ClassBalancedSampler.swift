/// Mini-batches in which every gene appears equally often (GRAPE's class-balanced sampler).
///
/// Draws follow rounds that visit every gene once in a fresh random order, so any `G` consecutive
/// draws hold each of the `G` genes exactly once; a mini-batch of `B ≤ G` cells therefore has `B`
/// distinct genes, and one of `B > G` cells has every gene `⌊B/G⌋` or `⌈B/G⌉` times. Each gene's
/// cells are dealt without replacement and reshuffled after each pass (epoch). Cells of held-out
/// batches are never drawn; genes left with no cells are skipped. Endless: ``next()`` never
/// returns `nil`.
public struct ClassBalancedSampler: GeneBalancedSampler {
  /// The resumable position, with the settings it belongs to.
  public struct State: Codable, Sendable, Equatable {
    /// The seed the sampler was made with.
    public var seed: UInt64
    /// Cells per mini-batch.
    public var batchSize: Int
    /// The number of mini-batches served so far.
    public var batchesServed: Int
    /// The position of the underlying gene-balanced stream.
    var stream: GeneBalancedStream.State

    enum CodingKeys: String, CodingKey {
      case seed
      case batchSize = "batch_size"
      case batchesServed = "batches_served"
      case stream
    }
  }

  /// The genes that can be drawn (indices into the store's genes), in slot order.
  public let genes: [Int]
  private var stream: GeneBalancedStream
  private var served = 0
  private let batchSize: Int

  /// A sampler over the cells whose batch is not in `excludedBatches`.
  ///
  /// - Parameters:
  ///   - geneOfCell: each cell's gene index; `batchOfCell`: each cell's batch index.
  ///   - batchSize: cells per mini-batch (positive).
  ///   - seed: determines the whole sequence.
  ///   - excludedBatches: batch indices held out.
  /// - Throws: ``OPSDataError/invalidArgument(name:message:)`` when no cell remains.
  public init(
    geneOfCell: [Int32], batchOfCell: [Int32], batchSize: Int, seed: UInt64,
    excludedBatches: Set<Int> = []
  ) throws {
    guard batchSize > 0 else {
      throw OPSDataError.invalidArgument(name: "batchSize", message: "\(batchSize) is not positive")
    }
    guard geneOfCell.count == batchOfCell.count else {
      throw OPSDataError.invalidArgument(
        name: "batchOfCell", message: "\(batchOfCell.count) entries for \(geneOfCell.count) cells")
    }
    let (genes, cells) = Self.groupByGene(
      geneOfCell: geneOfCell, batchOfCell: batchOfCell, excluded: excludedBatches)
    guard !genes.isEmpty else {
      throw OPSDataError.invalidArgument(
        name: "excludedBatches", message: "no cells remain once held-out batches are removed")
    }
    self.genes = genes
    self.batchSize = batchSize
    stream = GeneBalancedStream(cells: cells, seed: seed, stream: 0)
  }

  /// A sampler resumed from `state`; the labels and held-out batches must be those it was made with.
  public init(
    geneOfCell: [Int32], batchOfCell: [Int32], excludedBatches: Set<Int> = [],
    restoring state: State
  ) throws {
    try self.init(
      geneOfCell: geneOfCell, batchOfCell: batchOfCell, batchSize: state.batchSize,
      seed: state.seed, excludedBatches: excludedBatches)
    let (_, cells) = Self.groupByGene(
      geneOfCell: geneOfCell, batchOfCell: batchOfCell, excluded: excludedBatches)
    guard
      let resumed = GeneBalancedStream(
        cells: cells, seed: state.seed, stream: 0, state: state.stream)
    else {
      throw OPSDataError.invalidArgument(
        name: "sampler state",
        message: "does not match these cells (different store or held-out batches?)")
    }
    stream = resumed
    served = state.batchesServed
  }

  /// The current position.
  public var state: State {
    State(seed: stream.seed, batchSize: batchSize, batchesServed: served, stream: stream.state)
  }

  /// The next mini-batch of `batchSize` cell indices.
  public mutating func next() -> [Int]? {
    var batch: [Int] = []
    batch.reserveCapacity(batchSize)
    for _ in 0..<batchSize { batch.append(stream.next().cell) }
    served += 1
    return batch
  }

  /// Groups eligible cells by gene: the gene indices with cells, and their cell lists.
  static func groupByGene(geneOfCell: [Int32], batchOfCell: [Int32], excluded: Set<Int>) -> (
    [Int], [[Int]]
  ) {
    var byGene: [Int: [Int]] = [:]
    for (cell, gene) in geneOfCell.enumerated() {
      if excluded.contains(Int(batchOfCell[cell])) { continue }
      byGene[Int(gene), default: []].append(cell)
    }
    let genes = byGene.keys.sorted()
    return (genes, genes.map { byGene[$0] ?? [] })
  }
}
