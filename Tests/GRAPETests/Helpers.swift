import Training
import GrapeSupport
import Foundation
import GRAPE
import TestSupport
import TensorCore

/// Cycles through cells in a fixed shuffled order; state is the position and generator.
final class CyclingSampler: TrainingSampler {
  struct State: Codable {
    var position: Int
    var order: [Int]
  }
  var s: State
  let batch: Int

  init(count: Int, batch: Int, seed: UInt64) {
    var rng = RandomGenerator(seed: seed)
    var order = Array(0..<count)
    rng.shuffle(&order)
    s = State(position: 0, order: order)
    self.batch = batch
  }

  func next() -> [Int] {
    (0..<batch).map { _ in
      defer { s.position += 1 }
      return s.order[s.position % s.order.count]
    }
  }

  func state() throws -> Data { try JSONEncoder().encode(s) }
  func restore(_ data: Data) throws { s = try JSONDecoder().decode(State.self, from: data) }
}

/// A tiny screen in memory: `genes` genes whose cells differ in brightness of one channel.
func tinySource(cells: Int = 24, genes: Int = 3, size: Int = 16, seed: UInt64 = 1) -> InMemoryCellSource {
  var rng = RandomGenerator(seed: seed)
  let c = 4
  var px = [Float](repeating: 0, count: cells * c * size * size)
  var g: [Int] = []
  var b: [Int] = []
  for i in 0..<cells {
    let gene = i % genes
    g.append(gene)
    b.append(i % 2)
    for ch in 0..<c {
      for j in 0..<(size * size) {
        px[(i * c + ch) * size * size + j] = Float(rng.normal()) * 0.3 + (ch == gene % c ? 1 : 0)
      }
    }
  }
  return InMemoryCellSource(
    pixels: px, imageShape: [c, size, size], genes: g, batches: b, geneNames: (0..<genes).map { "G\($0)" }, batchNames: ["b0", "b1"])
}

func tinyConfig(genes: Int = 3, steps: Int = 4) throws -> GRAPEConfig {
  var c = try GRAPEConfig.preset("tiny")
  c.genes = (0..<genes).map { "G\($0)" }
  c.channels = ["DNA", "DNA damage", "microtubules", "F-actin"]
  c.steps = steps
  c.checkpointEvery = 2
  c.logEvery = 1
  c.seed = 5
  return c
}

func temporaryDirectory(_ tag: String) -> String { makeTemporaryFolder(tag) }
