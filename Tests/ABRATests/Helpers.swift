import Training
import GrapeSupport
import Foundation
import GRAPE
import TensorCore
import TestSupport

/// A plate-consistent, gene-balanced sampler for tests: each mini-batch comes from one batch
/// (chosen in a shuffled round-robin over batches), and within it genes are taken in a shuffled
/// cycle, one random cell per gene slot.
final class PlateBalancedSampler: TrainingSampler {
  struct State: Codable {
    var rng: RandomGenerator
    var plateOrder: [Int]
    var platePosition: Int
  }
  /// cellsOf[plate][gene] → cells.
  let cellsOf: [Int: [Int: [Int]]]
  let plates: [Int]
  let batchSize: Int
  var s: State

  init(source: CellSource, cells: [Int], batchSize: Int, seed: UInt64) {
    var groups: [Int: [Int: [Int]]] = [:]
    for i in cells { groups[source.batchOfCell[i], default: [:]][source.geneOfCell[i], default: []].append(i) }
    cellsOf = groups
    plates = groups.keys.sorted()
    self.batchSize = batchSize
    s = State(rng: RandomGenerator(seed: seed), plateOrder: [], platePosition: 0)
  }

  func next() -> [Int] {
    if s.platePosition >= s.plateOrder.count {
      var order = plates
      s.rng.shuffle(&order)
      s.plateOrder = order
      s.platePosition = 0
    }
    let plate = s.plateOrder[s.platePosition]
    s.platePosition += 1
    guard let byGene = cellsOf[plate] else { return [] }
    var genes = byGene.keys.sorted()
    s.rng.shuffle(&genes)
    return (0..<batchSize).map { k in
      let cells = byGene[genes[k % genes.count]] ?? []
      return cells[s.rng.int(below: cells.count)]
    }
  }

  func state() throws -> Data { try JSONEncoder().encode(s) }
  func restore(_ data: Data) throws { s = try JSONDecoder().decode(State.self, from: data) }
}

/// A sampler replaying fixed mini-batches (bad-input tests).
final class FixedSampler: TrainingSampler {
  let batches: [[Int]]
  var position = 0
  init(_ batches: [[Int]]) { self.batches = batches }
  func next() -> [Int] {
    defer { position += 1 }
    return batches[position % batches.count]
  }
  func state() throws -> Data { try JSONEncoder().encode(position) }
  func restore(_ data: Data) throws { position = try JSONDecoder().decode(Int.self, from: data) }
}

/// A tiny synthetic screen: each gene has its own spatial pattern (horizontal stripes, vertical
/// stripes, a central blob, a checkerboard, …) in channel 0 and a gene-dependent texture
/// contrast in channel 1; each batch multiplies every channel by its own gain and adds its own
/// offset (strong intensity shifts), plus pixel noise.
func syntheticScreen(
  genes: Int = 4, batches: Int = 4, cellsPerGeneAndBatch: Int = 8, size: Int = 8, noise: Float = 0.35, seed: UInt64 = 3
) -> InMemoryCellSource {
  var rng = RandomGenerator(seed: seed)
  let c = 2
  var px: [Float] = []
  var g: [Int] = []
  var b: [Int] = []
  var gains: [[Float]] = []
  var offsets: [[Float]] = []
  for _ in 0..<batches {
    gains.append((0..<c).map { _ in Float(rng.uniform(0.5, 2.5)) })
    offsets.append((0..<c).map { _ in Float(rng.uniform(-2, 2)) })
  }
  func pattern(_ gene: Int, _ y: Int, _ x: Int) -> Float {
    let cy = Float(y) - Float(size - 1) / 2
    let cx = Float(x) - Float(size - 1) / 2
    switch gene % 6 {
    case 0: return y % 2 == 0 ? 1 : 0
    case 1: return x % 2 == 0 ? 1 : 0
    case 2: return cy * cy + cx * cx < Float(size * size) / 10 ? 1 : 0
    case 3: return (x + y) % 2 == 0 ? 1 : 0
    case 4: return x < size / 2 ? 1 : 0
    default: return y < size / 2 ? 1 : 0
    }
  }
  for batch in 0..<batches {
    for gene in 0..<genes {
      for _ in 0..<cellsPerGeneAndBatch {
        for ch in 0..<c {
          for y in 0..<size {
            for x in 0..<size {
              let base: Float = ch == 0 ? pattern(gene, y, x) : Float(gene % 3) * 0.3 * Float(rng.normal())
              let v = base + noise * Float(rng.normal())
              px.append(v * gains[batch][ch] + offsets[batch][ch])
            }
          }
        }
        g.append(gene)
        b.append(batch)
      }
    }
  }
  return InMemoryCellSource(
    pixels: px, imageShape: [c, size, size], genes: g, batches: b, geneNames: (0..<genes).map { "G\($0)" },
    batchNames: (0..<batches).map { "plate\($0)" })
}

/// A fresh temporary folder.
func temporaryDirectory(_ tag: String) -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("abra-\(tag)-\(UUID().uuidString)").path
  try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

/// The ABRA reference fixture.
func abraFixture() throws -> ReferenceFixture {
  guard let url = Bundle.module.url(forResource: "abra_reference", withExtension: "json", subdirectory: "Fixtures") else {
    throw FixtureError.missing("Fixtures/abra_reference.json")
  }
  return try ReferenceFixture(url: url)
}
