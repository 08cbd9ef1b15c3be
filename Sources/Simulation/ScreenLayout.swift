import Foundation
import OPSData
import GrapeSupport

/// Which gene, batch, plate and well each simulated cell has, in store order.
///
/// Each targeting gene has exactly `cellsPerGene` cells and the control `controls × cellsPerGene`.
/// They are spread over batches unevenly: gene `g` is present in batch `b` with relative
/// abundance `w_gb = exp(0.5 · batchEffect · z_gb)`, `z_gb ~ N(0, 1)` (a log-normal, as guide
/// representation varies between library preparations), and its cells are split by
/// largest-remainder rounding of `n_g · w_gb / Σ_b w_gb`. Within a batch every cell goes to a
/// uniformly random plate and well. Cells are stored batch by batch, plate by plate and well by
/// well, in random order inside a well, as an imaging run would produce them.
struct ScreenLayout: Sendable {
  /// Gene index of each cell, [N].
  let gene: [Int32]
  /// Batch index of each cell, [N].
  let batch: [Int32]
  /// Plate index of each cell over the whole screen (batch × platesPerBatch + plate), [N].
  let plate: [Int32]
  /// Well index of each cell within its plate, [N].
  let well: [Int32]
  /// Cells of each gene in each batch, [G, B] row-major.
  let geneBatchCounts: [Int32]

  /// Log-normal spread of gene abundance between batches at `--batch-effect 1`.
  static let abundanceSpread = 0.5

  /// Lays out a screen.
  ///
  /// - Parameters:
  ///   - cellsOfGene: the number of cells of each gene.
  ///   - config: the simulation settings (batches, plates, wells, batch effect, seed).
  init(cellsOfGene: [Int], config: SimulationConfig) {
    let nb = config.batches
    let geneCount = cellsOfGene.count
    var counts = [Int32](repeating: 0, count: geneCount * nb)
    for g in 0..<geneCount {
      var rng = SeedMixer.generator(config.seed, .abundance, g)
      let w = (0..<nb).map { _ in
        Foundation.exp(Self.abundanceSpread * config.batchEffect * rng.normal())
      }
      let total = w.reduce(0, +)
      let n = cellsOfGene[g]
      let exact = w.map { Double(n) * $0 / total }
      var c = exact.map { Int($0.rounded(.down)) }
      let remainder = n - c.reduce(0, +)
      let order = (0..<nb).sorted {
        let fa = exact[$0] - Double(c[$0])
        let fb = exact[$1] - Double(c[$1])
        return fa != fb ? fa > fb : $0 < $1
      }
      for k in 0..<remainder { c[order[k % nb]] += 1 }
      for b in 0..<nb { counts[g * nb + b] = Int32(c[b]) }
    }
    var gene: [Int32] = []
    var batch: [Int32] = []
    var plate: [Int32] = []
    var well: [Int32] = []
    let total = cellsOfGene.reduce(0, +)
    gene.reserveCapacity(total)
    batch.reserveCapacity(total)
    plate.reserveCapacity(total)
    well.reserveCapacity(total)
    let slots = config.platesPerBatch * config.wellsPerPlate
    for b in 0..<nb {
      var rng = SeedMixer.generator(config.seed, .layout, b)
      var cells: [Int32] = []
      for g in 0..<geneCount {
        cells += [Int32](repeating: Int32(g), count: Int(counts[g * nb + b]))
      }
      rng.shuffle(&cells)
      var buckets = [[Int32]](repeating: [], count: slots)
      for g in cells { buckets[rng.int(below: slots)].append(g) }
      for (slot, members) in buckets.enumerated() {
        let p = slot / config.wellsPerPlate
        let w = slot % config.wellsPerPlate
        gene += members
        batch += [Int32](repeating: Int32(b), count: members.count)
        plate += [Int32](repeating: Int32(b * config.platesPerBatch + p), count: members.count)
        well += [Int32](repeating: Int32(w), count: members.count)
      }
    }
    self.gene = gene
    self.batch = batch
    self.plate = plate
    self.well = well
    self.geneBatchCounts = counts
  }

  /// A layout with the given per-cell labels.
  init(gene: [Int32], batch: [Int32], plate: [Int32], well: [Int32], geneBatchCounts: [Int32]) {
    self.gene = gene
    self.batch = batch
    self.plate = plate
    self.well = well
    self.geneBatchCounts = geneBatchCounts
  }

  /// Number of cells.
  var count: Int { gene.count }
}
