import GrapeSupport
import NeuralNet
import TensorCore
import TestSupport
import Testing
import Training

@testable import GRAPE

/// Data-parallel training gives each rank a share of every mini-batch and averages the ranks'
/// gradients, which equals the single-process gradient only if every loss of an iteration is a
/// mean of per-cell terms. These tests check that for the D step and the G step (at 32 px: at
/// 16 px the generator's instance norms see 2×2 maps, whose statistics amplify the rounding of
/// GEMMs of other sizes beyond these tolerances).
@Suite struct DataParallelStepTests {
  /// The gradients of one step on 8 cells, and the mean of those on its two halves.
  private func gradients(
    _ c: GRAPEConfig, step: (GRAPENetworks, GRAPEOptimizers, GRAPEBatch, inout StepLosses, inout StepTimings) -> Void
  ) throws -> (whole: [String: Tensor], halves: [String: Tensor]) {
    var rng = RandomGenerator(seed: 11)
    let n = GRAPENetworks(config: c, rng: &rng)
    let opt = GRAPEOptimizers(networks: n, config: c)
    let src = tinySource(cells: 24, genes: c.genes.count, size: c.imgSize)
    let cells = [0, 1, 2, 3, 4, 5, 6, 7]
    let targets = [1, 2, 0, 2, 0, 1, 1, 0]
    func batch(_ part: Range<Int>) throws -> GRAPEBatch {
      let idx = Array(cells[part])
      return GRAPEBatch(
        images: Tensor(try src.pixels(idx), shape: [idx.count] + src.imageShape), genes: idx.map { src.geneOfCell[$0] },
        targets: Array(targets[part]), batches: idx.map { src.batchOfCell[$0] })
    }
    let params = n.namedParameters()
    func run(_ b: GRAPEBatch) -> [String: Tensor] {
      zeroGradients(params.map(\.1))
      var losses = StepLosses()
      var timings = StepTimings()
      step(n, opt, b, &losses, &timings)
      return Dictionary(uniqueKeysWithValues: params.compactMap { name, p in p.grad.map { (name, $0) } })
    }
    let whole = run(try batch(0..<8))
    let first = run(try batch(0..<4))
    let second = run(try batch(4..<8))
    var halves: [String: Tensor] = [:]
    for (name, g) in first { halves[name] = (g + (second[name] ?? Tensor.zeros(g.shape))) * 0.5 }
    return (whole, halves)
  }

  private func expectSame(_ r: (whole: [String: Tensor], halves: [String: Tensor])) {
    #expect(Set(r.whole.keys) == Set(r.halves.keys))
    for (name, g) in r.whole {
      guard let h = r.halves[name] else { continue }
      assertClose(h, g, rtol: 1e-3, atol: 1e-6, name)
    }
  }

  @Test func discriminatorStepIsAMeanOverCells() throws {
    var c = try tinyConfig()
    c.imgSize = 32
    expectSame(
      try gradients(c) { n, opt, b, losses, timings in
        GRAPEStep.discriminator(n, opt, batch: b, config: c, losses: &losses, timings: &timings, applyUpdates: false)
      })
  }

  @Test func generatorStepIsAMeanOverCells() throws {
    var c = try tinyConfig()
    c.imgSize = 32
    expectSame(
      try gradients(c) { n, opt, b, losses, timings in
        GRAPEStep.generator(n, opt, batch: b, config: c, losses: &losses, timings: &timings, applyUpdates: false)
      })
  }
}

/// The networks act on each cell alone (no statistic is taken over the mini-batch), up to the
/// rounding of GEMMs of other sizes: what lets a mini-batch be shared out.
@Suite struct PerCellNetworkTests {
  @Test func networksActOnEachCellAlone() throws {
    var c = try tinyConfig()
    c.imgSize = 32
    var rng = RandomGenerator(seed: 11)
    let n = GRAPENetworks(config: c, rng: &rng)
    let src = tinySource(cells: 24, genes: c.genes.count, size: 32)
    let x = Tensor(try src.pixels(Array(0..<8)), shape: [8] + src.imageShape)
    let half = Tensor(try src.pixels(Array(0..<4)), shape: [4] + src.imageShape)
    let s = n.geneStyles([1, 2, 0, 2, 0, 1, 1, 0])
    let sHalf = n.geneStyles([1, 2, 0, 2])
    func firstFour(_ t: Tensor) -> Tensor { Tensor(Array(t.scalars.prefix(t.count / 2)), shape: [4] + Array(t.shape.dropFirst())) }
    let d = try #require(n.discriminator)
    assertClose(n.styleEncoder(half), firstFour(n.styleEncoder(x)), rtol: 1e-3, atol: 1e-5, "E")
    assertClose(d.logits(half), firstFour(d.logits(x)), rtol: 1e-3, atol: 1e-5, "D")
    assertClose(n.generator(half, style: sHalf), firstFour(n.generator(x, style: s)), rtol: 1e-3, atol: 1e-5, "G")
  }
}
