import Foundation
import TestSupport
import Testing

@testable import Simulation
import OPSData

/// Shared fixtures for the simulator tests.
enum SimFixtures {
  /// The repository's bundled complexes table.
  static var bundledTableURL: URL { RepositoryFiles.corumComplexes }

  /// A small table: `complexes` complexes of `genes` genes each, named C<k>G<j>.
  static func smallTable(complexes: Int = 3, genes: Int = 3) throws -> ComplexTable {
    try ComplexTable(
      complexes: (0..<complexes).map { k in
        ComplexTable.Complex(
          id: "\(100 + k)", name: "complex \(k)", genes: (0..<genes).map { "C\(k)G\($0)" })
      })
  }

  /// A small, fast configuration.
  static func smallConfig(size: Int = 16, cellsPerGene: Int = 4, seed: UInt64 = 11)
    -> SimulationConfig
  {
    var c = SimulationConfig()
    c.size = size
    c.cellsPerGene = cellsPerGene
    c.controls = 2
    c.batches = 2
    c.platesPerBatch = 2
    c.seed = seed
    return c
  }

  /// Renders a whole screen into memory.
  static func collect(_ sim: ScreenSimulator, chunkSize: Int = 64, threads: Int = 2) throws
    -> CollectingSink
  {
    var sink = CollectingSink()
    try sim.run(into: &sink, chunkSize: chunkSize, threads: threads)
    return sink
  }

  /// Mean of channel `c` of crop `i` in a flat [N, C, H, W] buffer.
  static func channelMean(_ pixels: [UInt16], cell i: Int, channel c: Int, channels: Int, size: Int)
    -> Double
  {
    let area = size * size
    let base = (i * channels + c) * area
    var sum = 0.0
    for k in 0..<area { sum += Double(pixels[base + k]) }
    return sum / Double(area)
  }
}
