import Foundation
import OPSData
import TensorCore

/// A cell store read as a ``CellSource``: labels are held in memory, pixels read on demand.
public final class StoreCellSource: CellSource {
  /// The store.
  public let store: CellStore
  public let geneOfCell: [Int]
  public let batchOfCell: [Int]

  /// Opens the cell store at `path` read-only.
  public init(path: String) throws {
    store = try CellStore(path: path)
    geneOfCell = store.geneOfCell.map(Int.init)
    batchOfCell = store.batchOfCell.map(Int.init)
  }

  public var cellCount: Int { store.count }
  public var geneNames: [String] { store.genes }
  public var batchNames: [String] { store.batches }
  public var channelNames: [String] { store.channels }
  public var imageShape: [Int] { store.cellShape }
  public var storesFloatPixels: Bool { store.pixelType == .float32 }
  public var controlGene: Int? { store.controlIndex }

  public func pixels(_ indices: [Int]) throws -> [Float] { try store.images(at: indices) }
}

/// Adapts an OPSData sampler (a value type with a `Codable` state) to ``TrainingSampler``.
public final class SamplerBox<S: CellSampler>: TrainingSampler {
  private var sampler: S
  private let restoreFn: (S.State) throws -> S

  /// Wraps `sampler`; `restore` rebuilds it from a saved state.
  public init(_ sampler: S, restore: @escaping (S.State) throws -> S) {
    self.sampler = sampler
    self.restoreFn = restore
  }

  public func next() -> [Int] {
    // The samplers used for training are endless.
    sampler.next() ?? []
  }

  public func state() throws -> Data { try JSONEncoder().encode(sampler.state) }

  public func restore(_ data: Data) throws { sampler = try restoreFn(try JSONDecoder().decode(S.State.self, from: data)) }
}

extension SamplerBox where S: GeneBalancedSampler {
  /// A gene-balanced sampler of kind `S` over the cells of `source` outside `excluded` batches:
  /// `ClassBalancedSampler` (GRAPE) or `PlateConsistentSampler` (ABRA's plate-consistent batches).
  public static func geneBalanced(_ source: StoreCellSource, batchSize: Int, seed: UInt64, excluded: Set<Int> = []) throws -> SamplerBox {
    let g = source.store.geneOfCell, b = source.store.batchOfCell
    return SamplerBox(try S(geneOfCell: g, batchOfCell: b, batchSize: batchSize, seed: seed, excludedBatches: excluded)) {
      try S(geneOfCell: g, batchOfCell: b, excludedBatches: excluded, restoring: $0)
    }
  }
}

extension SamplerBox where S: GeneBalancedSampler {
  /// A gene-balanced sampler of kind `S` over the cells of `source` outside `excluded` batches
  /// and outside `excludedCells` (a validation split). The excluded cells are given a batch of
  /// their own that is never drawn, so with no excluded cells this is
  /// ``geneBalanced(_:batchSize:seed:excluded:)``.
  public static func geneBalanced(
    _ source: StoreCellSource, batchSize: Int, seed: UInt64, excluded: Set<Int> = [], excludedCells: [Int]
  ) throws -> SamplerBox {
    guard !excludedCells.isEmpty else { return try geneBalanced(source, batchSize: batchSize, seed: seed, excluded: excluded) }
    let g = source.store.geneOfCell
    var b = source.store.batchOfCell
    let aside = Int32(source.batchNames.count)
    for c in excludedCells where b.indices.contains(c) { b[c] = aside }
    let skipped = excluded.union([Int(aside)])
    return SamplerBox(try S(geneOfCell: g, batchOfCell: b, batchSize: batchSize, seed: seed, excludedBatches: skipped)) {
      try S(geneOfCell: g, batchOfCell: b, excludedBatches: skipped, restoring: $0)
    }
  }
}

extension SamplerBox where S == ClassBalancedSampler {
  /// GRAPE's class-balanced sampler over the cells of `source` outside `excluded` batches.
  public static func classBalanced(_ source: StoreCellSource, batchSize: Int, seed: UInt64, excluded: Set<Int> = []) throws -> SamplerBox {
    try geneBalanced(source, batchSize: batchSize, seed: seed, excluded: excluded)
  }

  /// The class-balanced sampler over the cells of `source` outside `excluded` batches and
  /// outside `excludedCells` (a validation split).
  public static func classBalanced(
    _ source: StoreCellSource, batchSize: Int, seed: UInt64, excluded: Set<Int> = [], excludedCells: [Int]
  ) throws -> SamplerBox {
    try geneBalanced(source, batchSize: batchSize, seed: seed, excluded: excluded, excludedCells: excludedCells)
  }
}

extension SamplerBox where S == PlateConsistentSampler {
  /// Plate-consistent gene-balanced mini-batches (ABRA) over the cells of `source`.
  public static func plateConsistent(_ source: StoreCellSource, batchSize: Int, seed: UInt64, excluded: Set<Int> = []) throws -> SamplerBox {
    try geneBalanced(source, batchSize: batchSize, seed: seed, excluded: excluded)
  }

  /// Plate-consistent gene-balanced mini-batches over the cells of `source` outside `excluded`
  /// batches and outside `excludedCells` (a validation split).
  public static func plateConsistent(
    _ source: StoreCellSource, batchSize: Int, seed: UInt64, excluded: Set<Int> = [], excludedCells: [Int]
  ) throws -> SamplerBox {
    try geneBalanced(source, batchSize: batchSize, seed: seed, excluded: excluded, excludedCells: excludedCells)
  }
}
