import Training
import GrapeSupport
import Foundation
import GRAPE
import NeuralNet
import TensorCore
import TestSupport
import Testing

@testable import ABRA

/// A small, fast configuration on the synthetic screen.
func smallConfig(_ method: ClassifierMethod, source: CellSource, holdout: [String] = ["plate3"], steps: Int = 3) throws -> ClassifierConfig {
  var c = try ClassifierConfig(method: method, source: source, holdoutBatches: holdout)
  c.width = 4
  c.stages = 2
  c.perturbStage = 2
  c.batchSize = 8
  c.steps = steps
  c.checkpointEvery = 1000
  c.logEvery = 1
  c.seed = 4
  return c
}

func trainer(_ c: ClassifierConfig, _ src: CellSource, dir: String, samplerSeed: UInt64 = 2, resume: Bool = false) throws -> ClassifierTrainer {
  let cells = try ClassifierSplit(config: c, source: src).training
  return try ClassifierTrainer(
    config: c, source: src, sampler: PlateBalancedSampler(source: src, cells: cells, batchSize: c.batchSize, seed: samplerSeed),
    run: RunFolder(path: dir), resume: resume)
}

@Suite struct ClassifierInputErrorTests {
  let src = syntheticScreen(genes: 3, batches: 3, cellsPerGeneAndBatch: 2)

  @Test func unknownHeldOutBatchesAreNamed() {
    do {
      _ = try ClassifierConfig(method: .erm, source: src, holdoutBatches: ["plate1", "plateX", "P9"])
      Issue.record("no error")
    } catch let e as ABRAError {
      #expect(e == .unknownBatches(names: ["plateX", "P9"], known: ["plate0", "plate1", "plate2"]))
      #expect(e.description.contains("'plateX', 'P9'") && e.description.contains("plate0, plate1, plate2"))
    } catch { Issue.record("unexpected \(error)") }
    #expect(throws: ABRAError.unknownBatches(names: ["nope"], known: src.batchNames)) {
      try ClassifierTrainer.trainingCells(source: src, holdoutBatches: ["nope"])
    }
  }

  @Test func holdingOutEverythingLeavesNothingToTrainOn() {
    #expect(throws: ABRAError.noTrainingCells(heldOut: ["plate0", "plate1", "plate2"])) {
      try ClassifierTrainer.trainingCells(source: src, holdoutBatches: ["plate0", "plate1", "plate2"])
    }
  }

  @Test func aSingleCellBatchIsAnError() throws {
    // plate1 keeps one cell.
    let keep = (0..<src.cellCount).filter { src.batchOfCell[$0] != 1 } + [(0..<src.cellCount).first { src.batchOfCell[$0] == 1 } ?? 0]
    let px = try src.pixels(keep)
    let one = InMemoryCellSource(
      pixels: px, imageShape: src.imageShape, genes: keep.map { src.geneOfCell[$0] }, batches: keep.map { src.batchOfCell[$0] },
      geneNames: src.geneNames, batchNames: src.batchNames)
    #expect(throws: ABRAError.singleCellBatch(name: "plate1")) { try ClassifierTrainer.trainingCells(source: one, holdoutBatches: []) }
    // Held out, it trains; evaluating it with AdaBN is an error naming it, without AdaBN it is fine.
    let c = try smallConfig(.erm, source: one, holdout: ["plate1"], steps: 1)
    let t = try trainer(c, one, dir: temporaryDirectory("single"))
    try t.train()
    let ev = ClassifierEvaluator(config: c, model: t.model)
    #expect(throws: ABRAError.singleCellBatch(name: "plate1")) { try ev.evaluate(source: one, options: ClassifierEvaluationOptions(tta: true, ttaBatch: 8)) }
    #expect(try ev.evaluate(source: one).cells == 1)
    #expect(ABRAError.singleCellBatch(name: "plate1").description.contains("'plate1' has a single cell"))
  }

  @Test func badConfigurationsAreRejectedByField() throws {
    func rejects(_ field: String, _ change: (inout ClassifierConfig) -> Void) throws {
      var c = try smallConfig(.abra, source: src, holdout: [])
      change(&c)
      do {
        try c.validate()
        Issue.record("no error for a bad \(field)")
      } catch let ABRAError.invalidConfig(message) {
        #expect(message.contains(field), "\(message)")
      }
    }
    try rejects("perturb_stage") { $0.perturbStage = 3 }
    try rejects("stages") {
      $0.stages = 6  // 8-pixel crops cannot be halved five times
      $0.perturbStage = 6
    }
    let base = try smallConfig(.abra, source: src, holdout: [])
    do {
      _ = try base.overridden(with: Data(#"{"abra_ascent": "sgd"}"#.utf8), source: "c.json")
      Issue.record("no error for abra_ascent sgd")
    } catch let ABRAError.invalidRun(path, reason) {
      #expect(path == "c.json" && reason.contains("abra_ascent") && reason.contains("gradient or adam"), "\(reason)")
    }
    try rejects("batch_size") { $0.batchSize = 1 }
    try rejects("abra_lambda") { $0.abraLambda = 1.5 }
    try rejects("holdout_batches") { $0.holdoutBatches = ["plate0", "plate0"] }
    try rejects("format") { $0.format = "grape-run" }
    try rejects("batch_size 100000000") { $0.batchSize = 100_000_000 }
  }

  @Test func unusableMiniBatchesStopTraining() throws {
    let c = try smallConfig(.erm, source: src, holdout: ["plate2"], steps: 1)
    let p0 = (0..<src.cellCount).filter { src.batchOfCell[$0] == 0 }
    let p1 = (0..<src.cellCount).filter { src.batchOfCell[$0] == 1 }
    let p2 = (0..<src.cellCount).filter { src.batchOfCell[$0] == 2 }
    let cases: [([Int], String)] = [
      ([p0[0], p0[1], p1[0]], "plate-consistent"), ([p2[0], p2[1]], "held-out batch 'plate2'"), ([p0[0]], "1 cell"),
      ([p0[0], src.cellCount + 3], "outside"),
    ]
    for (batch, message) in cases {
      let t = try ClassifierTrainer(config: c, source: src, sampler: FixedSampler([batch]), run: RunFolder(path: temporaryDirectory("bad")))
      do {
        try t.train()
        Issue.record("no error for \(batch)")
      } catch let ABRAError.invalidMiniBatch(step, reason) {
        #expect(step == 1)
        #expect(reason.contains(message), "\(reason)")
      }
    }
  }

  @Test func dataThatDoesNotFitTheRunIsRejected() throws {
    let c = try smallConfig(.erm, source: src, holdout: [], steps: 1)
    let other = syntheticScreen(genes: 4, batches: 3, cellsPerGeneAndBatch: 2)
    #expect(throws: ABRAError.self) { try trainer(c, other, dir: temporaryDirectory("mismatch")) }
    var rng = RandomGenerator(seed: 0)
    let ev = ClassifierEvaluator(config: c, model: CellClassifier(config: c, rng: &rng))
    do {
      _ = try ev.evaluate(source: other)
      Issue.record("no error")
    } catch let ABRAError.dataMismatch(message) {
      #expect(message.contains("genes"))
    }
  }
}

@Suite struct ClassifierRunTests {
  let src = syntheticScreen(genes: 3, batches: 4, cellsPerGeneAndBatch: 4)

  @Test(arguments: ClassifierMethod.allCases)
  func everyMethodTrainsAndWritesTheRunFolder(method: ClassifierMethod) throws {
    let dir = temporaryDirectory("run-\(method.rawValue)")
    let c = try smallConfig(method, source: src, steps: 2)
    let t = try trainer(c, src, dir: dir)
    let before = t.model.stateDict()
    var logged: [ClassifierLosses] = []
    #expect(try t.train { if case .step(_, _, _, _, let l) = $0 { logged.append(l) } } == 2)
    #expect(logged.count == 2 && logged.allSatisfy { $0.firstNonFinite == nil && $0.ce > 0 })
    let run = RunFolder(path: dir)
    let ckpt = try #require(try run.latestCheckpoint())
    #expect(ckpt.hasSuffix("step-00000002"))
    for f in ["weights.safetensors", "optimizer.safetensors", "state.json"] { #expect(FileManager.default.fileExists(atPath: "\(ckpt)/\(f)"), "missing \(f)") }
    let weights = try SafeTensors.read("\(ckpt)/weights.safetensors").tensors
    #expect(weights["backbone.conv1.weight"]?.shape == [4, 2, 3, 3])
    #expect(weights["backbone.bn1.running_var"]?.shape == [4])
    #expect(weights["backbone.stages.1.0.downsample.0.weight"]?.shape == [8, 4, 1, 1])
    #expect(weights["head.cls.weight"]?.shape == [3, 8])
    #expect(weights["backbone.stages.0.0.conv1.weight"]?.scalars != before["backbone.stages.0.0.conv1.weight"]?.scalars)
    if method == .abra {
      #expect(weights["abra.k_mu"]?.shape == [1, 8, 1, 1])
      #expect(weights["abra.k_sigma"]?.shape == [1, 8, 1, 1])
      #expect(weights["head.arc_w"]?.shape == [3, 8])
      #expect(logged.allSatisfy { $0.arc > 0 && $0.js >= 0 && $0.adv > 0 })
    } else {
      #expect(!weights.keys.contains { $0.hasPrefix("abra.") || $0 == "head.arc_w" })
    }
    let back = try ClassifierConfig.read(run: run)
    #expect(back == c)
    let log = try String(contentsOfFile: run.logPath, encoding: .utf8).split(separator: "\n")
    #expect(log.count == 3)
    // val_acc: the validation split is on by default (measured every validate_every steps).
    #expect(log[0] == "step\ttime_s\tloss\tce\tce_perturbed\tarc\tjs\tadv\tk_mu\tk_sigma\ttrain_acc\tval_acc")
  }

  /// With the perturbation before the last stage, the passes that must not count (ABRA's phase 1,
  /// AdvStyle's first pass) leave BatchNorm untouched: the stem's BN sees one batch per step,
  /// the last stage's two (clean and perturbed).
  @Test(arguments: [ClassifierMethod.abra, .advstyle])
  func earlierPerturbationPointsCountOnlyTheTrainingPasses(method: ClassifierMethod) throws {
    var c = try smallConfig(method, source: src, steps: 3)
    c.perturbStage = 1
    let t = try trainer(c, src, dir: temporaryDirectory("stage1-\(method.rawValue)"))
    var logged: [ClassifierLosses] = []
    try t.train { if case .step(_, _, _, _, let l) = $0 { logged.append(l) } }
    #expect(logged.allSatisfy { $0.firstNonFinite == nil && $0.cePerturbed > 0 })
    let state = t.model.stateDict()
    #expect(state["backbone.bn1.num_batches_tracked"]?.item == 3)
    #expect(state["backbone.stages.0.0.bn1.num_batches_tracked"]?.item == 3)
    #expect(state["backbone.stages.1.0.bn1.num_batches_tracked"]?.item == 6)
    if method == .abra { #expect(state["abra.k_mu"]?.shape == [1, 4, 1, 1]) }
  }

  @Test func integerStoresGetAPercentileTransform() throws {
    let px = try src.pixels(Array(0..<src.cellCount)).map { ($0 + 10) * 1000 }
    let ints = InMemoryCellSource(
      pixels: px, imageShape: src.imageShape, genes: src.geneOfCell, batches: src.batchOfCell, geneNames: src.geneNames,
      batchNames: src.batchNames, floatPixels: false)
    let c = try ClassifierConfig(method: .erm, source: ints)
    let t = try #require(c.inputTransform)
    #expect(t.kind == .affine && t.scale.count == 2)
    var rng = RandomGenerator(seed: 0)
    let x = try ClassifierInput(config: c).images(ints, cells: Array(0..<ints.cellCount), augment: false, rng: &rng)
    let values = x.scalars
    #expect((values.min() ?? 0) > -1 && (values.max() ?? 0) < 2, "inputs span \(values.min() ?? 0)…\(values.max() ?? 0)")
    #expect(try ClassifierConfig(method: .erm, source: src).inputTransform == nil)
  }

  @Test(arguments: [ABRAAscentRule.gradient, .adam])
  func resumeIsExact(ascent: ABRAAscentRule) throws {
    var c = try smallConfig(.abra, source: src, steps: 4)
    c.abraAscent = ascent
    let full = temporaryDirectory("cfull")
    let a = try trainer(c, src, dir: full)
    try a.train()
    var half = c
    half.steps = 2
    let part = temporaryDirectory("cpart")
    try trainer(half, src, dir: part).train()
    let b = try trainer(c, src, dir: part, samplerSeed: 777, resume: true)
    #expect(b.step == 2)
    try b.train()
    let wa = a.model.stateDict()
    let wb = b.model.stateDict()
    #expect(Set(wa.keys) == Set(wb.keys))
    for (k, v) in wa { assertClose(try #require(wb[k]), v, rtol: 0, atol: 0, k) }
    let logA = try String(contentsOfFile: RunFolder(path: full).logPath, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").dropFirst(2) }
    let logB = try String(contentsOfFile: RunFolder(path: part).logPath, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").dropFirst(2) }
    #expect(logA == logB)
  }

  @Test func aStopRequestCheckpointsAfterTheCurrentStep() throws {
    let dir = temporaryDirectory("cstop")
    let t = try trainer(try smallConfig(.dsu, source: src, steps: 50), src, dir: dir)
    t.requestStop()
    #expect(try t.train() == 1)
    #expect(try RunFolder(path: dir).latestCheckpoint()?.hasSuffix("step-00000001") == true)
  }

  @Test func aNonFiniteLossStopsWithoutWriting() throws {
    let dir = temporaryDirectory("cnan")
    let bad = InMemoryCellSource(
      pixels: [Float](repeating: .nan, count: src.cellCount * 2 * 8 * 8), imageShape: src.imageShape, genes: src.geneOfCell,
      batches: src.batchOfCell, geneNames: src.geneNames, batchNames: src.batchNames)
    let t = try trainer(try smallConfig(.abra, source: bad, steps: 3), bad, dir: dir)
    do {
      try t.train()
      Issue.record("no divergence error")
    } catch let ABRAError.diverged(step, _, value) {
      #expect(step == 1 && !value.isFinite)
    }
    #expect(try RunFolder(path: dir).latestCheckpoint() == nil)
  }

  @Test func resumingWithADifferentConfigurationIsRefused() throws {
    let dir = temporaryDirectory("cdiff")
    let c = try smallConfig(.erm, source: src, steps: 1)
    try trainer(c, src, dir: dir).train()
    var d = c
    d.method = .dsu
    d.steps = 5
    do {
      _ = try trainer(d, src, dir: dir, resume: true)
      Issue.record("no error")
    } catch let ABRAError.invalidRun(_, reason) {
      #expect(reason.contains("method"))
    }
    #expect(throws: ABRAError.self) { try trainer(c, src, dir: temporaryDirectory("cnone"), resume: true) }
  }

  @Test func evaluationWritesTheContractsMetrics() throws {
    let dir = temporaryDirectory("ceval")
    let c = try smallConfig(.abra, source: src, holdout: ["plate1", "plate3"], steps: 2)
    try trainer(c, src, dir: dir).train()
    let ev = try ClassifierEvaluator(run: RunFolder(path: dir))
    let m = try ev.evaluate(source: src)
    #expect(m.method == "abra" && !m.tta && m.ttaBatch == nil)
    #expect(m.evaluatedBatches == ["plate1", "plate3"] && m.heldOut)
    #expect(Set(m.perBatch.keys) == ["plate1", "plate3"] && m.cells == 24)
    #expect(abs(m.accuracy - (m.perBatch.values.reduce(0, +) / 2)) < 1e-12)  // equal-sized batches
    #expect(abs(m.chance - 1.0 / 3) < 1e-12)
    let out = temporaryDirectory("cmetrics")
    let path = try m.write(toDirectory: out)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    #expect(json["method"] as? String == "abra")
    #expect(json["tta"] as? Bool == false)
    #expect(json["accuracy"] as? Double == m.accuracy)
    #expect((json["per_batch"] as? [String: Double])?["plate1"] == m.perBatch["plate1"])
    #expect((json["per_group"] as? [String: Double])?.isEmpty == true)
    #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["metrics.json"])

    // Without TTA predictions do not depend on chunking; AdaBN leaves the running statistics.
    var rng = RandomGenerator(seed: 1)
    let cells = (0..<src.cellCount).filter { src.batchOfCell[$0] == 1 }
    let p1 = try ev.predict(source: src, cells: cells, tta: false, chunkSize: 5, rng: &rng)
    let p2 = try ev.predict(source: src, cells: cells, tta: false, chunkSize: 256, rng: &rng)
    #expect(p1 == p2)
    let buffersBefore = ev.model.namedBuffers().map { $0.1.value.scalars }
    let withTTA = try ev.evaluate(source: src, options: ClassifierEvaluationOptions(tta: true, ttaBatch: 5, curveSizes: [4, 12], curveRepeats: 3))
    #expect(ev.model.namedBuffers().map { $0.1.value.scalars } == buffersBefore)
    #expect(!ev.model.isTraining && ev.model.backbone.batchNorms.allSatisfy { !$0.isTraining })
    #expect(withTTA.tta && withTTA.ttaBatch == 5)
    let curve = try #require(withTTA.ttaBatchSizeCurve)
    #expect(curve.map(\.batchSize) == [4, 12] && curve.allSatisfy { $0.runs.count == 3 })
    // With a chunk as large as the batch the chunking cannot vary: every run agrees.
    #expect(curve[1].std == 0 && curve[1].runs.allSatisfy { $0 == curve[1].runs[0] })
    let encoded = try JSONSerialization.jsonObject(with: withTTA.jsonData()) as? [String: Any]
    let first = try #require((encoded?["tta_batch_size_curve"] as? [[String: Any]])?.first)
    #expect(first["batch_size"] as? Int == 4 && first["mean"] is Double && first["std"] is Double)
  }

  @Test func geneFeaturesAreMeansOfPenultimateFeatures() throws {
    let c = try smallConfig(.erm, source: src, steps: 1)
    let t = try trainer(c, src, dir: temporaryDirectory("cfeat"))
    try t.train()
    let ev = ClassifierEvaluator(config: c, model: t.model)
    let cells = Array(0..<src.cellCount).filter { src.geneOfCell[$0] != 2 }
    let m = try ev.geneFeatures(source: src, cells: cells)
    #expect(m.genes == src.geneNames && m.dim == 8 && m.values.count == 24)
    #expect(m.counts == [16, 16, 0])
    #expect(m.row(2) == [Float](repeating: 0, count: 8))
    let gene0 = cells.filter { src.geneOfCell[$0] == 0 }
    var unused = RandomGenerator(seed: 0)
    let x = try ClassifierInput(config: c).images(src, cells: gene0, augment: false, rng: &unused)
    let expected = withoutGradient { t.model.features(x).mean(axes: [0]) }
    assertClose(m.row(0), expected.scalars, rtol: 1e-4, atol: 1e-5)
    let adapted = try ev.geneFeatures(source: src, tta: true, ttaBatch: 8)
    #expect(adapted.counts == [16, 16, 16] && adapted.values != m.values)
  }

  @Test func featureStatisticsAreEachBatchsChannelMomentsAtThePerturbationPoint() throws {
    let c = try smallConfig(.abra, source: src, steps: 1)
    let t = try trainer(c, src, dir: temporaryDirectory("cstats"))
    try t.train()
    let ev = ClassifierEvaluator(config: c, model: t.model)
    let stats = try ev.featureStatistics(source: src, chunkSize: 5)
    #expect(stats.map(\.batch) == src.batchNames)
    #expect(stats.map(\.heldOut) == src.batchNames.map { $0 == "plate3" })
    let channels = c.networkShape.channels(ofStage: c.perturbStage - 1)
    #expect(stats.allSatisfy { $0.mean.count == channels && $0.std.count == channels && $0.cells == 12 })
    // The same moments computed directly over the batch's activations [N, C, H, W].
    let cells = (0..<src.cellCount).filter { src.batchOfCell[$0] == 1 }
    var unused = RandomGenerator(seed: 0)
    let x = try ClassifierInput(config: c).images(src, cells: cells, augment: false, rng: &unused)
    let h = withoutGradient { t.model.backbone.trunk(x, upTo: c.perturbStage) }
    let mean = withoutGradient { h.mean(axes: [0, 2, 3]) }
    let centred = withoutGradient { h - mean.reshaped([1, channels, 1, 1]) }
    let std = withoutGradient { (centred * centred).mean(axes: [0, 2, 3]).sqrt() }
    assertClose(stats[1].mean.map(Float.init), mean.scalars, rtol: 1e-4, atol: 1e-5)
    assertClose(stats[1].std.map(Float.init), std.scalars, rtol: 1e-3, atol: 1e-5)
    // The table: a header, one row per batch and channel, the run's K beside each channel.
    let tsv = ClassifierEvaluator.statisticsTSV(stats, model: t.model).split(separator: "\n")
    #expect(tsv.first == "batch\theld_out\tcells\tchannel\tmean\tstd\tk_mu\tk_sigma")
    #expect(tsv.count == 1 + src.batchNames.count * channels)
    let row = tsv[1].split(separator: "\t", omittingEmptySubsequences: false)
    #expect(row.count == 8 && row[0] == "plate0" && row[1] == "0" && row[3] == "0" && !row[6].isEmpty)
    let kMu = try #require(t.model.abra).kMu.value.scalars[0]
    #expect(abs((Float(row[6]) ?? .nan) - kMu) < 1e-5)
  }
}

@Suite struct ClassifierPartsTests {
  @Test func augmentationPermutesPixelsWithinEachPlane() {
    let shape = [2, 4, 4]
    let original = (0..<(3 * 32)).map { Float($0) }
    var px = original
    var rng = RandomGenerator(seed: 8)
    ClassifierInput.augment(&px, count: 3, shape: shape, rng: &rng)
    var reference = RandomGenerator(seed: 8)
    for _ in 0..<9 { _ = reference.uniform() }
    #expect(rng == reference, "three uniforms per crop")
    #expect(px != original)
    for plane in 0..<6 {
      let a = px[(plane * 16)..<((plane + 1) * 16)].sorted()
      let b = original[(plane * 16)..<((plane + 1) * 16)].sorted()
      #expect(a == b, "plane \(plane) is a permutation of itself")
    }
    // Both channels of a crop get the same spatial map.
    for n in 0..<3 {
      let c0 = px[(n * 32)..<(n * 32 + 16)].map { $0 - Float(n * 32) }
      let c1 = px[(n * 32 + 16)..<(n * 32 + 32)].map { $0 - Float(n * 32 + 16) }
      #expect(c0 == c1)
    }
    // Non-square crops are flipped but never rotated: rows stay rows.
    var wide = (0..<8).map { Float($0) }
    var r2 = RandomGenerator(seed: 1)
    for _ in 0..<10 {
      ClassifierInput.augment(&wide, count: 1, shape: [1, 2, 4], rng: &r2)
      #expect(Set(wide.prefix(4)) == Set([0, 1, 2, 3]) || Set(wide.prefix(4)) == Set([4, 5, 6, 7]))
    }
  }

  @Test func configurationRoundTripsThroughJSON() throws {
    let src = syntheticScreen(genes: 3, batches: 2, cellsPerGeneAndBatch: 2)
    var c = try ClassifierConfig(method: .abra, source: src, holdoutBatches: ["plate1"])
    c.abraMaxK = 2
    c.abraTerms = .ceArc
    let data = try c.jsonData()
    let text = String(decoding: data, as: UTF8.self)
    for key in ["\"holdout_batches\"", "\"abra_step_size\"", "\"abra_max_k\"", "\"perturb_stage\"", "\"image_shape\"", "\"ce_arc\""] {
      #expect(text.contains(key), "missing \(key)")
    }
    #expect(try ClassifierConfig.from(json: data, source: "x.json") == c)
    c.abraMaxK = nil
    #expect(try ClassifierConfig.from(json: try c.jsonData(), source: "x.json") == c)
    do {
      _ = try ClassifierConfig.from(json: Data("{\"img_size\": 32}".utf8), source: "run/config.json")
      Issue.record("no error")
    } catch let ABRAError.invalidRun(path, reason) {
      #expect(path == "run/config.json" && reason.contains("missing field"))
    }
  }

  @Test func aGRAPERunIsNotAClassifierRun() throws {
    let dir = temporaryDirectory("notclassifier")
    var g = try GRAPEConfig.preset("tiny")
    g.genes = ["A", "B"]
    try RunFolder(path: dir).writeConfig(g)
    do {
      _ = try ClassifierEvaluator(run: RunFolder(path: dir))
      Issue.record("no error")
    } catch let ABRAError.invalidRun(path, reason) {
      #expect(path.hasSuffix("config.json") && reason.contains("classifier"), "\(reason)")
    }
    #expect(throws: ABRAError.self) { try ClassifierEvaluator(run: RunFolder(path: temporaryDirectory("empty"))) }
  }

  @Test func withoutHeldOutBatchesEveryBatchIsEvaluated() throws {
    let src = syntheticScreen(genes: 3, batches: 2, cellsPerGeneAndBatch: 2)
    let c = try smallConfig(.erm, source: src, holdout: [], steps: 1)
    var rng = RandomGenerator(seed: 0)
    let ev = ClassifierEvaluator(config: c, model: CellClassifier(config: c, rng: &rng))
    let m = try ev.evaluate(source: src, options: ClassifierEvaluationOptions(tta: true, ttaBatch: 4))
    #expect(!m.heldOut && m.evaluatedBatches == ["plate0", "plate1"] && m.cells == 12)
    #expect(throws: ABRAError.self) { try ev.evaluate(source: src, options: ClassifierEvaluationOptions(tta: true, ttaBatch: 1)) }
    #expect(throws: ABRAError.self) { try ev.predict(source: src, cells: [0, 6], tta: true, rng: &rng) }  // two batches
  }
}
