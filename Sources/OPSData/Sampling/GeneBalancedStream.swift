/// An endless stream of cells in which every gene appears equally often.
///
/// Draws come in rounds: each round visits every gene once, in a fresh random order. Each gene's
/// cells are dealt in a random order without replacement; when a gene's cells run out, they are
/// reshuffled for its next pass (its next epoch). Every permutation is derived from the seed, the
/// stream number, and the round or pass number, so the state is a few integers per gene.
struct GeneBalancedStream: Sendable {
  /// The resumable position of the stream.
  struct State: Codable, Sendable, Equatable {
    /// The round number and the position inside it.
    var round: Int
    var position: Int
    /// For each gene slot: the pass over its cells and the position inside that pass.
    var pass: [Int]
    var offset: [Int]
  }

  let seed: UInt64
  let stream: Int
  /// The cells of each gene slot (only genes with at least one cell).
  let cells: [[Int]]
  private(set) var state: State
  private var roundOrder: [Int]
  private var orders: [[Int]]

  /// A stream over `cells` (one non-empty list per gene slot).
  init(cells: [[Int]], seed: UInt64, stream: Int) {
    precondition(
      !cells.isEmpty && cells.allSatisfy { !$0.isEmpty }, "GeneBalancedStream: empty gene slot")
    self.seed = seed
    self.stream = stream
    self.cells = cells
    state = State(
      round: 0, position: 0, pass: Array(repeating: 0, count: cells.count),
      offset: Array(repeating: 0, count: cells.count))
    roundOrder = []
    orders = Array(repeating: [], count: cells.count)
    restoreCaches()
  }

  /// A stream resumed from `state`, or `nil` when the state does not fit these cells.
  init?(cells: [[Int]], seed: UInt64, stream: Int, state: State) {
    guard state.pass.count == cells.count, state.offset.count == cells.count,
      state.round >= 0, state.position >= 0, state.position < cells.count,
      zip(state.offset, cells).allSatisfy({ $0.0 >= 0 && $0.0 < $0.1.count }),
      state.pass.allSatisfy({ $0 >= 0 })
    else { return nil }
    self.init(cells: cells, seed: seed, stream: stream)
    self.state = state
    restoreCaches()
  }

  private mutating func restoreCaches() {
    roundOrder = permuted(Array(0..<cells.count), seed: derivedSeed(seed, stream, -1, state.round))
    for slot in cells.indices {
      orders[slot] = permuted(cells[slot], seed: derivedSeed(seed, stream, slot, state.pass[slot]))
    }
  }

  /// The next cell, and the gene slot it belongs to.
  mutating func next() -> (cell: Int, slot: Int) {
    let slot = roundOrder[state.position]
    let cell = orders[slot][state.offset[slot]]
    state.offset[slot] += 1
    if state.offset[slot] == cells[slot].count {
      state.offset[slot] = 0
      state.pass[slot] += 1
      orders[slot] = permuted(cells[slot], seed: derivedSeed(seed, stream, slot, state.pass[slot]))
    }
    state.position += 1
    if state.position == cells.count {
      state.position = 0
      state.round += 1
      roundOrder = permuted(
        Array(0..<cells.count), seed: derivedSeed(seed, stream, -1, state.round))
    }
    return (cell, slot)
  }
}
