/// Mini-batches drawn from one batch (plate) at a time, gene-balanced within it (ABRA, Eq. 3).
///
/// Batches take turns in rounds: each round visits every eligible batch once in a fresh random
/// order, so all batches serve equally many mini-batches. Inside a batch, cells are drawn as by
/// ``ClassBalancedSampler`` restricted to that batch's cells. Held-out batches are never drawn.
/// Endless: ``next()`` never returns `nil`.
public struct PlateConsistentSampler: GeneBalancedSampler {
  /// The resumable position, with the settings it belongs to.
  public struct State: Codable, Sendable, Equatable {
    /// The seed the sampler was made with.
    public var seed: UInt64
    /// Cells per mini-batch.
    public var batchSize: Int
    /// The number of mini-batches served so far.
    public var batchesServed: Int
    /// The round of the batch schedule and the position inside it.
    var round: Int
    var position: Int
    /// The position of each batch's gene-balanced stream (eligible batches in index order).
    var streams: [GeneBalancedStream.State]

    enum CodingKeys: String, CodingKey {
      case seed
      case batchSize = "batch_size"
      case batchesServed = "batches_served"
      case round, position, streams
    }
  }

  /// The batch indices that can be drawn, in index order.
  public let batches: [Int]
  /// The batch the most recent mini-batch came from (`nil` before the first).
  public private(set) var lastBatch: Int?
  private var streams: [GeneBalancedStream]
  private let seed: UInt64
  private let batchSize: Int
  private var round = 0
  private var position = 0
  private var served = 0
  private var schedule: [Int]

  /// A sampler over the cells whose batch is not in `excludedBatches`.
  ///
  /// - Throws: ``OPSDataError/invalidArgument(name:message:)`` when no batch remains.
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
    let groups = Self.groups(
      geneOfCell: geneOfCell, batchOfCell: batchOfCell, excluded: excludedBatches)
    guard !groups.isEmpty else {
      throw OPSDataError.invalidArgument(
        name: "excludedBatches", message: "no batch remains once held-out batches are removed")
    }
    batches = groups.map(\.batch)
    streams = groups.map { GeneBalancedStream(cells: $0.cells, seed: seed, stream: $0.batch + 1) }
    self.seed = seed
    self.batchSize = batchSize
    schedule = permuted(Array(0..<groups.count), seed: derivedSeed(seed, 0, -2, 0))
  }

  /// A sampler resumed from `state`; the labels and held-out batches must be those it was made with.
  public init(
    geneOfCell: [Int32], batchOfCell: [Int32], excludedBatches: Set<Int> = [],
    restoring state: State
  ) throws {
    try self.init(
      geneOfCell: geneOfCell, batchOfCell: batchOfCell, batchSize: state.batchSize,
      seed: state.seed, excludedBatches: excludedBatches)
    let groups = Self.groups(
      geneOfCell: geneOfCell, batchOfCell: batchOfCell, excluded: excludedBatches)
    guard state.streams.count == groups.count, state.position >= 0, state.position < groups.count,
      state.round >= 0
    else {
      throw OPSDataError.invalidArgument(
        name: "sampler state",
        message: "does not match these cells (different store or held-out batches?)")
    }
    var resumed: [GeneBalancedStream] = []
    for (group, streamState) in zip(groups, state.streams) {
      guard
        let stream = GeneBalancedStream(
          cells: group.cells, seed: state.seed, stream: group.batch + 1, state: streamState)
      else {
        throw OPSDataError.invalidArgument(
          name: "sampler state", message: "does not match the cells of batch \(group.batch)")
      }
      resumed.append(stream)
    }
    streams = resumed
    round = state.round
    position = state.position
    served = state.batchesServed
    schedule = permuted(Array(0..<groups.count), seed: derivedSeed(state.seed, 0, -2, round))
  }

  /// The current position.
  public var state: State {
    State(
      seed: seed, batchSize: batchSize, batchesServed: served, round: round, position: position,
      streams: streams.map(\.state))
  }

  /// The next mini-batch: `batchSize` cells of one batch.
  public mutating func next() -> [Int]? {
    let slot = schedule[position]
    var batch: [Int] = []
    batch.reserveCapacity(batchSize)
    for _ in 0..<batchSize { batch.append(streams[slot].next().cell) }
    lastBatch = batches[slot]
    position += 1
    if position == schedule.count {
      position = 0
      round += 1
      schedule = permuted(Array(0..<streams.count), seed: derivedSeed(seed, 0, -2, round))
    }
    served += 1
    return batch
  }

  private static func groups(geneOfCell: [Int32], batchOfCell: [Int32], excluded: Set<Int>) -> [(
    batch: Int, cells: [[Int]]
  )] {
    var byBatch: [Int: [Int: [Int]]] = [:]
    for cell in geneOfCell.indices {
      let batch = Int(batchOfCell[cell])
      if excluded.contains(batch) { continue }
      byBatch[batch, default: [:]][Int(geneOfCell[cell]), default: []].append(cell)
    }
    return byBatch.keys.sorted().map { batch in
      let genes = byBatch[batch] ?? [:]
      return (batch, genes.keys.sorted().map { genes[$0] ?? [] })
    }
  }
}
