import GrapeSupport

/// A source of mini-batches of cell indices whose position can be saved and restored.
///
/// Samplers are value types: a copy continues independently, and ``state`` is a small `Codable`
/// snapshot from which the sampler's `init(restoring:...)` resumes the exact same sequence.
public protocol CellSampler: Sendable {
  /// The resumable position of the sampler.
  associatedtype State: Codable & Sendable & Equatable
  /// The current position: restoring it reproduces the batches that follow.
  var state: State { get }
  /// The next mini-batch of cell indices, or `nil` when the sampler is exhausted.
  mutating func next() -> [Int]?
}

/// An endless, seeded sampler that balances genes within each mini-batch over the cells outside
/// some held-out batches, made from the per-cell labels and resumable from its state.
public protocol GeneBalancedSampler: CellSampler {
  /// A sampler over the cells outside `excludedBatches`.
  init(geneOfCell: [Int32], batchOfCell: [Int32], batchSize: Int, seed: UInt64, excludedBatches: Set<Int>) throws
  /// A sampler resumed from `state`; the labels and held-out batches must be those it was made with.
  init(geneOfCell: [Int32], batchOfCell: [Int32], excludedBatches: Set<Int>, restoring state: State) throws
}

extension GeneBalancedSampler {
  /// A sampler over the cells of `store` outside `excludedBatches`.
  public init(store: CellStore, batchSize: Int, seed: UInt64, excludedBatches: Set<Int> = []) throws {
    try self.init(
      geneOfCell: store.geneOfCell, batchOfCell: store.batchOfCell, batchSize: batchSize, seed: seed,
      excludedBatches: excludedBatches)
  }
}

/// A finite sampler that serves a fixed list of index lists in order.
public struct IndexListSampler: CellSampler {
  /// The position in the list.
  public struct State: Codable, Sendable, Equatable {
    /// How many lists have been served.
    public var position: Int
  }

  /// The lists to serve.
  public let lists: [[Int]]
  /// The current position.
  public private(set) var state: State

  /// A sampler over `lists`, starting at `position`.
  public init(_ lists: [[Int]], position: Int = 0) {
    self.lists = lists
    self.state = State(position: max(0, min(position, lists.count)))
  }

  /// The next list, or `nil` after the last.
  public mutating func next() -> [Int]? {
    guard state.position < lists.count else { return nil }
    defer { state.position += 1 }
    return lists[state.position]
  }
}

/// Derives an independent 64-bit seed from a base seed and up to three integers (SplitMix64 mixing).
func derivedSeed(_ seed: UInt64, _ a: Int, _ b: Int, _ c: Int = 0) -> UInt64 {
  var z = seed
  for v in [a, b, c] {
    z = z &+ 0x9E37_79B9_7F4A_7C15 &+ UInt64(bitPattern: Int64(v)) &* 0xD1B5_4A32_D192_ED03
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
  }
  return z
}

/// A random permutation of `values` determined by `seed`.
func permuted(_ values: [Int], seed: UInt64) -> [Int] {
  var generator = RandomGenerator(seed: seed)
  var result = values
  generator.shuffle(&result)
  return result
}
