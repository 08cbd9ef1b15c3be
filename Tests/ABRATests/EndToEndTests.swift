import Training
import GrapeSupport
import Foundation
import GRAPE
import TensorCore
import Testing

@testable import ABRA

/// A tiny synthetic screen with strong per-batch gains and offsets: ERM and ABRA both learn the
/// genes of a held-out batch above chance. (Which of the two is better is a measurement, not a
/// unit test.)
@Suite struct EndToEndTests {
  @Test(arguments: [ClassifierMethod.erm, .abra])
  func learnsHeldOutGenesAboveChance(method: ClassifierMethod) throws {
    let src = syntheticScreen(genes: 4, batches: 4, cellsPerGeneAndBatch: 8, size: 8)
    var c = try ClassifierConfig(method: method, source: src, holdoutBatches: ["plate3"])
    c.width = 8
    c.stages = 2
    c.perturbStage = 2
    c.batchSize = 16
    c.steps = 150
    c.lr = 3e-3
    c.checkpointEvery = 1000
    c.logEvery = 50
    c.seed = 1
    c.validationFraction = 0  // every cell of the training plates is trained on, as this test was sized
    let cells = try ClassifierSplit(config: c, source: src).training
    let t = try ClassifierTrainer(
      config: c, source: src, sampler: PlateBalancedSampler(source: src, cells: cells, batchSize: 16, seed: 2),
      run: RunFolder(path: temporaryDirectory("e2e-\(method.rawValue)")))
    var last = ClassifierLosses()
    try t.train { if case .step(_, _, _, _, let l) = $0 { last = l } }
    let ev = ClassifierEvaluator(config: c, model: t.model)
    let plain = try ev.evaluate(source: src)
    let adapted = try ev.evaluate(source: src, options: ClassifierEvaluationOptions(tta: true, ttaBatch: 16, seed: 3))
    // Training plates, each with its own AdaBN statistics.
    var rng = RandomGenerator(seed: 4)
    var hits = 0
    for plate in 0..<3 {
      let plateCells = cells.filter { src.batchOfCell[$0] == plate }
      let predicted = try ev.predict(source: src, cells: plateCells, tta: true, ttaBatch: 16, rng: &rng)
      hits += zip(predicted, plateCells).filter { $0 == src.geneOfCell[$1] }.count
    }
    let trainAccuracy = Double(hits) / Double(cells.count)
    let chance = 0.25
    #expect(trainAccuracy > chance + 0.35, "\(method) training accuracy with AdaBN \(trainAccuracy)")
    #expect(adapted.accuracy > chance + 0.2, "\(method) held-out accuracy with AdaBN \(adapted.accuracy) (without: \(plain.accuracy)); last losses \(last.fields)")
    #expect(last.firstNonFinite == nil)
  }
}
