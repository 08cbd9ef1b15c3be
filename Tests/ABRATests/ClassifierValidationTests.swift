import Training
import GrapeSupport
import Foundation
import TensorCore
import Testing

@testable import ABRA

/// The validation split, the learning-rate schedule, label smoothing and the per-batch control
/// z-score of `grape classify train`, and the train / validation / held-out report of evaluation.
@Suite struct ClassifierValidationTests {
  let src = syntheticScreen(genes: 3, batches: 4, cellsPerGeneAndBatch: 10)

  @Test func theSplitKeepsAShareOfEveryTrainingBatch() throws {
    let s = try ClassifierSplit(source: src, holdoutBatches: ["plate3"], validationFraction: 0.2, seed: 5)
    #expect(s.validation.count == 18 && s.training.count == 72 && s.heldOut.count == 30)
    for b in 0..<3 { #expect(s.validation.filter { src.batchOfCell[$0] == b }.count == 6) }
    #expect(Set(s.validation).isDisjoint(with: s.training))
    #expect((s.validation + s.training).sorted() == (0..<90).map { $0 })
    #expect(s.heldOut.allSatisfy { src.batchOfCell[$0] == 3 })
    // Seeded: the same seed gives the same cells, another seed others; no share, no validation.
    #expect(try ClassifierSplit(source: src, holdoutBatches: ["plate3"], validationFraction: 0.2, seed: 5) == s)
    #expect(try ClassifierSplit(source: src, holdoutBatches: ["plate3"], validationFraction: 0.2, seed: 6).validation != s.validation)
    #expect(try ClassifierSplit(source: src, holdoutBatches: ["plate3"], validationFraction: 0, seed: 5).validation.isEmpty)
    #expect(s.trainingSubset(count: 10, seed: 1).count == 10 && Set(s.trainingSubset(count: 10, seed: 1)).isSubset(of: s.training))
    #expect(throws: ABRAError.invalidConfig("validation_fraction must lie in [0, 1), got 1.0")) {
      try ClassifierSplit(source: src, holdoutBatches: [], validationFraction: 1, seed: 0)
    }
    var c = try smallConfig(.erm, source: src)
    c.validationFraction = -0.1
    #expect(throws: ABRAError.invalidConfig("validation_fraction must lie in [0, 1), got -0.1")) { try c.validate() }
  }

  @Test func validationCellsAreNeverTrainedOn() throws {
    var c = try smallConfig(.erm, source: src)
    c.validationFraction = 0.2
    let v = try #require(try ClassifierSplit(config: c, source: src).validation.first)
    let t = try ClassifierTrainer(
      config: c, source: src, sampler: FixedSampler([[v, v + 1]]), run: RunFolder(path: temporaryDirectory("cval-bad")))
    #expect(throws: ABRAError.invalidMiniBatch(step: 1, reason: "the sampler drew validation cell \(v)")) { try t.train() }
  }

  @Test func classBalancedMiniBatchesMayMixPlates() throws {
    var c = try smallConfig(.erm, source: src, steps: 1)
    c.sampler = .classBalanced
    let split = try ClassifierSplit(config: c, source: src)
    let a = try #require(split.training.first { src.batchOfCell[$0] == 0 })
    let b = try #require(split.training.first { src.batchOfCell[$0] == 1 })
    let t = try ClassifierTrainer(config: c, source: src, sampler: FixedSampler([[a, b]]), run: RunFolder(path: temporaryDirectory("cval-mixed")))
    #expect(try t.train() == 1)
    c.method = .abra
    #expect(throws: ABRAError.invalidConfig("sampler class_balanced cannot be used with method abra: ABRA's batch statistics need plate-consistent mini-batches")) {
      try c.validate()
    }
  }

  /// `plate_groups`: each mini-batch is groups of one plate each; ABRA trains on them, a group
  /// that mixes plates stops training, and the key is checked against the batch size and sampler.
  @Test func plateGroupsAreEachFromOnePlate() throws {
    var c = try smallConfig(.abra, source: src, steps: 3)
    c.plateGroups = 2
    try c.validate()
    let cells = try ClassifierSplit(config: c, source: src).training
    let grouped = GroupedSampler(PlateBalancedSampler(source: src, cells: cells, batchSize: 4, seed: 2), groups: 2)
    let first = grouped.next()
    #expect(first.count == 8)
    #expect(Set(first[0..<4].map { src.batchOfCell[$0] }).count == 1 && Set(first[4..<8].map { src.batchOfCell[$0] }).count == 1)
    let t = try ClassifierTrainer(config: c, source: src, sampler: grouped, run: RunFolder(path: temporaryDirectory("cval-groups")))
    #expect(try t.train() == 3)
    #expect(t.model.abra?.groups == 2)
    let a = cells.filter { src.batchOfCell[$0] == 0 }, b = cells.filter { src.batchOfCell[$0] == 1 }
    let mixed = [a[0], a[1], a[2], b[0], b[1], b[2], b[3], b[4]]
    let bad = try ClassifierTrainer(
      config: c, source: src, sampler: FixedSampler([mixed]), run: RunFolder(path: temporaryDirectory("cval-groups-bad")))
    #expect(throws: ABRAError.invalidMiniBatch(step: 1, reason: "cells come from several batches (plate0, plate1); mini-batches must be plate-consistent")) {
      try bad.train()
    }
    c.plateGroups = 3
    #expect(throws: ABRAError.invalidConfig("plate_groups must be ≥ 1 and split batch_size (8) into groups of at least two cells, got 3")) { try c.validate() }
    c.method = .erm
    c.plateGroups = 2
    c.sampler = .classBalanced
    #expect(throws: ABRAError.invalidConfig("plate_groups applies to sampler plate only, got sampler class_balanced")) { try c.validate() }
  }

  @Test func learningRateSchedules() {
    let cosine = LearningRateSchedule.cosine
    #expect(cosine.rate(step: 1, total: 100, base: 1, warmup: 10) == 0.1)
    #expect(cosine.rate(step: 10, total: 100, base: 1, warmup: 10) == 1)
    #expect(abs(cosine.rate(step: 55, total: 100, base: 1, warmup: 10) - 0.5) < 1e-6)
    #expect(cosine.rate(step: 100, total: 100, base: 1, warmup: 10) < 1e-6)
    #expect(cosine.rate(step: 150, total: 100, base: 1, warmup: 10) == cosine.rate(step: 100, total: 100, base: 1, warmup: 10))
    #expect(LearningRateSchedule.constant.rate(step: 5, total: 100, base: 2, warmup: 10) == 1)
    #expect(LearningRateSchedule.constant.rate(step: 50, total: 100, base: 2, warmup: 0) == 2)
  }

  @Test func trainingLogsValidationAndEvaluationReportsEverySplit() throws {
    let dir = temporaryDirectory("cval")
    var c = try smallConfig(.erm, source: src, steps: 4)
    c.validationFraction = 0.2
    c.validateEvery = 2
    c.lrSchedule = .cosine
    c.warmupSteps = 1
    c.labelSmoothing = 0.1
    let t = try trainer(c, src, dir: dir)
    var seen: [Float] = []
    try t.train { if case .step(_, _, _, _, let l) = $0 { seen.append(l.lr) } }
    #expect(seen.count == 4 && seen[0] == c.lr && seen[3] == 0)
    let log = try String(contentsOfFile: "\(dir)/log.tsv", encoding: .utf8).split(separator: "\n")
    let header = log[0].split(separator: "\t").map(String.init)
    #expect(header.suffix(2) == ["lr", "val_acc"], "\(header)")
    let val = log.dropFirst().map { $0.split(separator: "\t").last.map(String.init) ?? "" }
    #expect(val[0] == "nan" && val[2] == "nan" && [val[1], val[3]].allSatisfy { Double($0).map { (0...1).contains($0) } == true }, "\(log)")
    let ev = try ClassifierEvaluator(run: RunFolder(path: dir))
    for tta in [false, true] {
      let m = try ev.evaluate(source: src, options: ClassifierEvaluationOptions(tta: tta, ttaBatch: 4, trainSubsetCells: 20))
      #expect(m.validationCells == 18 && m.trainCells == 20 && m.validationFraction == 0.2)
      #expect(m.trainAccuracy.map { (0...1).contains($0) } == true && m.validationAccuracy.map { (0...1).contains($0) } == true)
      let json = try #require(try JSONSerialization.jsonObject(with: m.jsonData()) as? [String: Any])
      #expect(json["train_accuracy"] is Double && json["validation_accuracy"] is Double && json["accuracy"] as? Double == m.accuracy)
    }
    let none = try ev.evaluate(source: src, options: ClassifierEvaluationOptions(splits: false))
    #expect(none.trainAccuracy == nil && none.validationAccuracy == nil)
  }

  @Test func runsWrittenBeforeTheseFieldsStillLoad() throws {
    let c = try smallConfig(.dsu, source: src)
    var object = try #require(try JSONSerialization.jsonObject(with: c.jsonData()) as? [String: Any])
    for k in ClassifierConfig.legacyDefaults.keys { object.removeValue(forKey: k) }
    let old = try ClassifierConfig.from(json: try JSONSerialization.data(withJSONObject: object), source: "old.json")
    #expect(old.validationFraction == 0 && old.validateEvery == 0 && old.lrSchedule == .constant && old.warmupSteps == 0)
    #expect(old.labelSmoothing == 0 && old.inputNormalization == .percentile)
    var expected = c
    (expected.validationFraction, expected.validateEvery) = (0, 0)
    #expect(old == expected)
    #expect(old.learningRate(atStep: 1) == c.lr && old.learningRate(atStep: c.steps) == c.lr)
  }

  @Test func theControlZScoreUsesEachBatchsOwnControls() throws {
    // Integer pixels, gene 0 the control; plate 3 is held out.
    let px = try src.pixels(Array(0..<src.cellCount)).map { ($0 + 10) * 1000 }
    let ints = InMemoryCellSource(
      pixels: px, imageShape: src.imageShape, genes: src.geneOfCell, batches: src.batchOfCell, geneNames: src.geneNames,
      batchNames: src.batchNames, floatPixels: false, controlGene: 0)
    var c = try smallConfig(.erm, source: ints)
    c.inputNormalization = .controls
    try c.chooseInputTransform(source: ints)
    let t = try #require(c.inputTransform)
    #expect(t.kind == .controls && t.batches?.map(\.name) == ["plate0", "plate1", "plate2"] && t.batches?.allSatisfy(\.controls) == true)
    // Each training batch's control cells come out with mean 0 and standard deviation 1 per channel.
    var rng = RandomGenerator(seed: 0)
    let controls0 = (0..<ints.cellCount).filter { ints.batchOfCell[$0] == 0 && ints.geneOfCell[$0] == 0 }
    let x: [Float] = try ClassifierInput(config: c).images(ints, cells: controls0, augment: false, rng: &rng).scalars
    var sum = 0.0
    var sumSq = 0.0
    for cell in 0..<controls0.count {
      for i in (cell * 2 * 64)..<((cell * 2 + 1) * 64) {
        sum += Double(x[i])
        sumSq += Double(x[i]) * Double(x[i])
      }
    }
    let count = Double(controls0.count * 64)
    let mean = sum / count
    let sd = (sumSq / count - mean * mean).squareRoot()
    #expect(abs(mean) < 1e-3 && abs(sd - 1) < 1e-3, "\(mean) \(sd)")
    // Evaluation normalises the held-out batch by its own controls.
    let dir = temporaryDirectory("cval-controls")
    try trainer(c, ints, dir: dir).train()
    let m = try ClassifierEvaluator(run: RunFolder(path: dir)).evaluate(source: ints)
    #expect(m.evaluatedBatches == ["plate3"] && (0...1).contains(m.accuracy))
    let saved = try ClassifierConfig.read(run: RunFolder(path: dir))
    #expect(saved.inputNormalization == .controls && saved.inputTransform == t)
  }

  @Test func perImageStandardisationUsesEachCropAlone() throws {
    // Two crops of 2 channels × 2×2 px; the second crop's first channel is constant.
    let px: [Float] = [1, 2, 3, 4, 10, 10, 30, 30, 5, 5, 5, 5, -1, 1, -1, 1]
    let out = InputTransform.standardizedPerImage(px, shape: [2, 2, 2, 2])
    let s5 = Float(1.25).squareRoot()
    let expected: [Float] = [-1.5 / s5, -0.5 / s5, 0.5 / s5, 1.5 / s5, -1, -1, 1, 1, 0, 0, 0, 0, -1, 1, -1, 1]
    #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(out)")
    // A gain and offset applied to one crop (a batch effect) leave its input unchanged.
    let shifted = px.enumerated().map { $0.offset < 8 ? $0.element * 3 + 7 : $0.element }
    let again = InputTransform.standardizedPerImage(shifted, shape: [2, 2, 2, 2])
    #expect(zip(out, again).allSatisfy { abs($0 - $1) < 1e-5 })
    // The classifier records it and feeds held-out batches the same way, with no statistics.
    let ints = InMemoryCellSource(
      pixels: try src.pixels(Array(0..<src.cellCount)).map { ($0 + 10) * 1000 }, imageShape: src.imageShape, genes: src.geneOfCell,
      batches: src.batchOfCell, geneNames: src.geneNames, batchNames: src.batchNames, floatPixels: false, controlGene: 0)
    var c = try smallConfig(.abra, source: ints)
    c.inputNormalization = .image
    try c.chooseInputTransform(source: ints)
    #expect(c.inputTransform == .perImage && c.inputTransform?.batches == nil)
    let dir = temporaryDirectory("cval-image")
    try trainer(c, ints, dir: dir).train()
    let m = try ClassifierEvaluator(run: RunFolder(path: dir)).evaluate(source: ints)
    #expect(m.evaluatedBatches == ["plate3"] && (0...1).contains(m.accuracy))
    #expect(try ClassifierConfig.read(run: RunFolder(path: dir)).inputTransform == .perImage)
  }

  @Test func trainBatchesLimitTrainingToSomeExperiments() throws {
    let s = try ClassifierSplit(source: src, holdoutBatches: ["plate3"], trainBatches: ["plate0", "plate2"], validationFraction: 0.2, seed: 5)
    #expect(s.training.count == 48 && s.validation.count == 12 && s.heldOut.count == 30)
    #expect((s.training + s.validation).allSatisfy { [0, 2].contains(src.batchOfCell[$0]) })
    var c = try smallConfig(.erm, source: src)
    c.holdoutBatches = ["plate3"]
    c.trainBatches = ["plate1"]
    try c.validate()
    let dir = temporaryDirectory("cval-train-batches")
    let t = try trainer(c, src, dir: dir)
    #expect(t.split.training.allSatisfy { src.batchOfCell[$0] == 1 })
    c.trainBatches = ["plate3"]
    #expect(throws: ABRAError.invalidConfig("batch 'plate3' is both trained on (train_batches) and held out (holdout_batches)")) { try c.validate() }
    c.trainBatches = ["plate9"]
    #expect(throws: ABRAError.invalidConfig("train_batches names 'plate9', which is not a batch of the data (plate0, plate1, plate2, plate3)")) {
      try c.validate()
    }
  }
}
