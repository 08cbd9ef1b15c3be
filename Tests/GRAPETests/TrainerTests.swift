import Training
import GrapeSupport
import Foundation
import Testing
import TensorCore
import NeuralNet
import TestSupport
@testable import GRAPE

@Suite struct TrainerTests {
  @Test func trainsAndWritesTheRunFolder() throws {
    let dir = temporaryDirectory("train")
    let src = tinySource()
    let c = try tinyConfig(steps: 3)
    let trainer = try GRAPETrainer(config: c, source: src, sampler: CyclingSampler(count: src.cellCount, batch: c.batchSize, seed: 1), run: RunFolder(path: dir))
    var events: [GRAPETrainingEvent] = []
    #expect(try trainer.train { events.append($0) } == 3)
    let run = RunFolder(path: dir)
    let ckpt = try #require(try run.latestCheckpoint())
    #expect(ckpt.hasSuffix("step-00000003"))
    for f in ["weights.safetensors", "weights_ema.safetensors", "optimizer.safetensors", "state.json"] {
      #expect(FileManager.default.fileExists(atPath: "\(ckpt)/\(f)"), "missing \(f)")
    }
    #expect(FileManager.default.fileExists(atPath: "\(dir)/checkpoints/step-00000002"))
    let log = try String(contentsOfFile: run.logPath, encoding: .utf8).split(separator: "\n")
    #expect(log.count == 4)
    #expect(log[0].hasPrefix("step\ttime_s\td_real\td_fake\tr1"))
    let ema = try SafeTensors.read("\(ckpt)/weights_ema.safetensors").tensors
    #expect(ema.keys.allSatisfy { !$0.hasPrefix("discriminator") })
    #expect(ema["gene_embedding.weight"]?.shape == [3, 32])
    let stepEvents = events.compactMap { if case .step(let s, _, _, _, let l) = $0 { return (s, l) } else { return nil } }
    #expect(stepEvents.count == 3)
    for (_, l) in stepEvents { #expect(l.firstNonFinite == nil && l.dReal > 0 && l.gCyc > 0) }
    // Inference loads the EMA weights from the run folder.
    let (cfg, nets) = try loadTrainedNetworks(run: run)
    #expect(cfg.genes == c.genes)
    assertClose(nets.geneEmbedding.weight.value, try #require(ema["gene_embedding.weight"]), rtol: 0, atol: 0)
    #expect(nets.discriminator == nil)
  }

  /// Zero steps keep the initialised networks as a checkpoint, EMA equal to the weights.
  @Test func zeroStepsWriteTheInitialWeights() throws {
    let dir = temporaryDirectory("zero")
    let src = tinySource()
    let trainer = try GRAPETrainer(
      config: try tinyConfig(steps: 0), source: src, sampler: CyclingSampler(count: src.cellCount, batch: 4, seed: 1), run: RunFolder(path: dir))
    #expect(try trainer.train() == 0)
    let ckpt = try #require(try RunFolder(path: dir).latestCheckpoint())
    #expect(ckpt.hasSuffix("step-00000000"))
    let weights = try SafeTensors.read("\(ckpt)/weights.safetensors").tensors
    let ema = try SafeTensors.read("\(ckpt)/weights_ema.safetensors").tensors
    for (k, v) in ema { assertClose(try #require(weights[k]), v, rtol: 0, atol: 0, k) }
    let (_, nets) = try loadTrainedNetworks(run: RunFolder(path: dir))
    assertClose(nets.geneEmbedding.weight.value, trainer.networks.geneEmbedding.weight.value, rtol: 0, atol: 0)
  }

  /// `lambda_d_cls` adds λ · CE(D's heads on real cells, their genes) to the D step and nothing
  /// else: the D gradients with it minus those without equal λ times the CE's own gradient.
  @Test func discriminatorClassificationTermAddsItsGradient() throws {
    var c = try tinyConfig()
    var rng = RandomGenerator(seed: 5)
    let n = GRAPENetworks(config: c, rng: &rng)
    let opt = GRAPEOptimizers(networks: n, config: c)
    let src = tinySource()
    let x = Tensor(try src.pixels([0, 1, 2, 3]), shape: [4] + src.imageShape)
    let batch = GRAPEBatch(images: x, genes: [0, 1, 2, 0], targets: [1, 2, 0, 2])
    let d = try #require(n.discriminator)
    let dParams = d.namedParameters(prefix: "discriminator").map(\.1)
    func dGradients(lambda: Float) -> ([Tensor], StepLosses) {
      c.lambdaDCls = lambda
      zeroGradients(dParams)
      var losses = StepLosses()
      var timings = StepTimings()
      GRAPEStep.discriminator(n, opt, batch: batch, config: c, losses: &losses, timings: &timings, applyUpdates: false)
      return (dParams.map { $0.grad ?? Tensor.zeros($0.value.shape) }, losses)
    }
    let (without, plain) = dGradients(lambda: 0)
    let (with, aux) = dGradients(lambda: 0.5)
    #expect(plain.extra["d_cls"] == nil)
    let ce = crossEntropy(logits: d.logits(x), targets: batch.genes)
    #expect(abs(try #require(aux.extra["d_cls"]) - ce.item) < 1e-5)
    #expect(abs(aux.dTotal - plain.dTotal - 0.5 * ce.item) < 1e-4)
    let own = gradients(of: ce, wrt: dParams.map(\.value))
    var reachesD = false
    for i in dParams.indices {
      assertClose(with[i] - without[i], own[i] * 0.5, rtol: 1e-3, atol: 1e-5, "parameter \(i)")
      if own[i].abs().max().item > 1e-4 { reachesD = true }
    }
    #expect(reachesD)
    // The trainer logs the term as its own column.
    let dir = temporaryDirectory("dcls")
    c.lambdaDCls = 1
    c.steps = 2
    let trainer = try GRAPETrainer(config: c, source: src, sampler: CyclingSampler(count: src.cellCount, batch: c.batchSize, seed: 1), run: RunFolder(path: dir))
    try trainer.train()
    let rows = try String(contentsOfFile: RunFolder(path: dir).logPath, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t") }
    let column = try #require(rows[0].firstIndex(of: "d_cls"))
    #expect(rows.count == 3 && rows.allSatisfy { $0.count == rows[0].count })
    #expect(rows[1...].allSatisfy { (Float(String($0[column])) ?? -1) > 0 })
  }

  /// `r1_every` and `cycle_every` (lazy regularisation): on a step that k does not divide the
  /// term is skipped (its gradient is that of a weight of 0, its logged value 0); on one that k
  /// divides it is computed at k times its weight.
  @Test func lazyR1AndCycleSkipAndScaleTheirTerms() throws {
    var c = try tinyConfig()
    var rng = RandomGenerator(seed: 9)
    let n = GRAPENetworks(config: c, rng: &rng)
    let opt = GRAPEOptimizers(networks: n, config: c)
    let src = tinySource()
    let x = Tensor(try src.pixels([0, 1, 2, 3]), shape: [4] + src.imageShape)
    let batch = GRAPEBatch(images: x, genes: [0, 1, 2, 0], targets: [1, 2, 0, 2])
    let all = n.namedParameters().map(\.1)
    let dParams = try #require(n.discriminator).namedParameters(prefix: "discriminator").map(\.1)
    let gParams = n.namedParameters().filter { !$0.0.hasPrefix("discriminator") }.map(\.1)
    func grads(_ params: [Parameter]) -> [Tensor] { params.map { $0.grad ?? Tensor.zeros($0.value.shape) } }
    func dStep(_ config: GRAPEConfig, step: Int) -> ([Tensor], StepLosses) {
      zeroGradients(all)
      var (losses, timings) = (StepLosses(), StepTimings())
      GRAPEStep.discriminator(n, opt, batch: batch, config: config, step: step, losses: &losses, timings: &timings, applyUpdates: false)
      return (grads(dParams), losses)
    }
    func gStep(_ config: GRAPEConfig, step: Int) -> ([Tensor], StepLosses) {
      zeroGradients(all)
      var (losses, timings) = (StepLosses(), StepTimings())
      GRAPEStep.generator(n, opt, batch: batch, config: config, step: step, losses: &losses, timings: &timings, applyUpdates: false)
      return (grads(gParams), losses)
    }
    var lazy = c
    (lazy.r1Every, lazy.cycleEvery) = (3, 2)
    var noR1 = c
    noR1.r1Gamma = 0
    var tripleR1 = c
    tripleR1.r1Gamma = 3
    var noCycle = c
    noCycle.lambdaCyc = 0
    var doubleCycle = c
    doubleCycle.lambdaCyc = 2
    for (step, reference, skipped) in [(4, noR1, true), (6, tripleR1, false)] {
      let (got, losses) = dStep(lazy, step: step)
      let (want, full) = dStep(reference, step: 0)
      for i in got.indices { assertClose(got[i], want[i], rtol: 1e-4, atol: 1e-6, "D parameter \(i), step \(step)") }
      #expect(skipped ? losses.r1 == 0 : abs(losses.r1 - full.r1) < 1e-6)
    }
    for (step, reference, skipped) in [(3, noCycle, true), (4, doubleCycle, false)] {
      let (got, losses) = gStep(lazy, step: step)
      let (want, full) = gStep(reference, step: 0)
      for i in got.indices { assertClose(got[i], want[i], rtol: 1e-4, atol: 1e-6, "G-step parameter \(i), step \(step)") }
      #expect(skipped ? losses.gCyc == 0 : abs(losses.gCyc - full.gCyc) < 1e-6)
    }
    c.r1Every = 0
    #expect(throws: GRAPEError.self) { try c.validate() }
  }

  /// `lambda_style_align` adds λ · CE(scale · cos(E(x), F(M[g])) over all genes g, the cells'
  /// genes) to the G step: the gradients of E, F and M with it minus those without equal λ times
  /// the term's own gradient, and every row of M receives one (each gene is a negative).
  @Test func styleAlignmentTermAddsItsGradient() throws {
    var c = try tinyConfig(genes: 5)
    var rng = RandomGenerator(seed: 6)
    let n = GRAPENetworks(config: c, rng: &rng)
    let opt = GRAPEOptimizers(networks: n, config: c)
    let src = tinySource()
    let x = Tensor(try src.pixels([0, 1, 2, 3]), shape: [4] + src.imageShape)
    let batch = GRAPEBatch(images: x, genes: [0, 1, 2, 0], targets: [1, 2, 0, 2])
    let trained = n.namedParameters().filter { ["style_encoder.", "mapping_network.", "gene_embedding."].contains(where: $0.0.hasPrefix) }
    let params = trained.map(\.1)
    func gradientsOfGStep(lambda: Float) -> ([Tensor], StepLosses) {
      c.lambdaStyleAlign = lambda
      zeroGradients(n.namedParameters().map(\.1))
      var losses = StepLosses()
      var timings = StepTimings()
      GRAPEStep.generator(n, opt, batch: batch, config: c, losses: &losses, timings: &timings, applyUpdates: false)
      return (params.map { $0.grad ?? Tensor.zeros($0.value.shape) }, losses)
    }
    let (without, plain) = gradientsOfGStep(lambda: 0)
    let (with, aligned) = gradientsOfGStep(lambda: 0.5)
    #expect(plain.extra["style_align"] == nil)
    let term = GRAPEStep.styleAlignment(codes: n.styleEncoder(x), networks: n, genes: batch.genes, scale: c.styleAlignScale).loss
    #expect(abs(try #require(aligned.extra["style_align"]) - term.item) < 1e-5)
    #expect(abs(aligned.gTotal - plain.gTotal - 0.5 * term.item) < 1e-4)
    let own = gradients(of: term, wrt: params.map(\.value))
    for i in params.indices {
      assertClose(with[i] - without[i], own[i] * 0.5, rtol: 1e-3, atol: 1e-5, trained[i].0)
    }
    // Every row of M moves, also those of genes absent from the batch's real cells and targets.
    let m = try #require(trained.firstIndex { $0.0 == "gene_embedding.weight" })
    let rows = own[m].shape[0]
    let grad = own[m].scalars
    let width = grad.count / rows
    for r in 0..<rows { #expect(grad[(r * width)..<((r + 1) * width)].contains { abs($0) > 0 }, "row \(r) of M") }
    #expect(GRAPEStep.loggedNames(c).contains("style_align"))

    // Further real cells (`style_align_batch`) join the alignment and nothing else.
    var wider = batch
    let extra = Tensor(try src.pixels([4, 5]), shape: [2] + src.imageShape)
    wider.alignmentImages = extra
    wider.alignmentGenes = [4, 3]
    var losses = StepLosses()
    var timings = StepTimings()
    GRAPEStep.generator(n, opt, batch: wider, config: c, losses: &losses, timings: &timings, applyUpdates: false)
    let both = GRAPEStep.styleAlignment(
      codes: concat([n.styleEncoder(x), n.styleEncoder(extra)], axis: 0), networks: n, genes: batch.genes + [4, 3], scale: c.styleAlignScale
    ).loss
    #expect(abs(try #require(losses.extra["style_align"]) - both.item) < 1e-5)
    #expect(abs(losses.gAdv - aligned.gAdv) < 1e-6 && abs(losses.gCyc - aligned.gCyc) < 1e-6)
  }

  /// `style_align_prototype_scale`: E's gradient is that of the alignment at `style_align_scale`,
  /// M's and F's that of the alignment at the prototype scale, and the logged value is E's term.
  @Test func prototypeScaleSplitsTheAlignment() throws {
    let src = tinySource()
    let c = try tinyConfig(steps: 1)
    var rng = RandomGenerator(seed: 21)
    let n = GRAPENetworks(config: c, withDiscriminator: false, rng: &rng)
    let x = Tensor(try src.pixels([0, 1, 2, 3]), shape: [4] + src.imageShape)
    let genes = [0, 1, 2, 1]
    let encoderParams = n.styleEncoder.parameters().map(\.value)
    let prototypeParams = (n.mappingNetwork.parameters() + n.geneEmbedding.parameters()).map(\.value)
    func align(_ scale: Float, _ prototypeScale: Float?) -> (loss: Tensor, logged: Float) {
      GRAPEStep.styleAlignment(codes: n.styleEncoder(x), networks: n, genes: genes, scale: scale, prototypeScale: prototypeScale)
    }
    let split = align(16, 4)
    let sharp = align(16, nil), soft = align(4, nil)
    #expect(abs(split.logged - sharp.loss.item) < 1e-5)
    #expect(abs(split.loss.item - sharp.loss.item - soft.loss.item) < 1e-4)
    let splitE = gradients(of: split.loss, wrt: encoderParams), sharpE = gradients(of: sharp.loss, wrt: encoderParams)
    for i in splitE.indices { assertClose(splitE[i], sharpE[i], rtol: 1e-4, atol: 1e-6, "encoder \(i)") }
    let splitM = gradients(of: split.loss, wrt: prototypeParams), softM = gradients(of: soft.loss, wrt: prototypeParams)
    for i in splitM.indices { assertClose(splitM[i], softM[i], rtol: 1e-4, atol: 1e-6, "M and F \(i)") }
    // Equal scales are the single alignment.
    #expect(abs(align(16, 16).loss.item - sharp.loss.item) < 1e-6)
  }

  /// `style_align_batch` draws further cells for the alignment at every step; it cannot be
  /// smaller than the mini-batch.
  @Test func alignmentBatchDrawsFurtherCells() throws {
    var c = try tinyConfig(steps: 2)
    c.lambdaStyleAlign = 1
    c.styleAlignBatch = 10
    #expect(c.extraAlignmentCells == 6)
    let src = tinySource()
    let dir = temporaryDirectory("align-batch")
    let sampler = CyclingSampler(count: src.cellCount, batch: c.batchSize, seed: 1)
    #expect(try GRAPETrainer(config: c, source: src, sampler: sampler, run: RunFolder(path: dir)).train() == 2)
    c.styleAlignBatch = 2
    #expect(throws: GRAPEError.self) { try c.validate() }
    c.styleAlignBatch = 10
    c.lambdaStyleAlign = 0
    #expect(c.extraAlignmentCells == 0)
  }

  /// `style_align_steps` adds alignment-only updates of E, F and M after each iteration: D and G
  /// end the step where the plain alignment run leaves them, E and M do not, and a resumed run
  /// equals an uninterrupted one (the extra cells come from the sampler, whose state is saved).
  @Test func alignmentStepsUpdateOnlyTheEncoderAndTheEmbedding() throws {
    var c = try tinyConfig(steps: 1)
    c.lambdaStyleAlign = 1
    let src = tinySource()
    func trained(_ k: Int?, steps: Int = 1, dir: String? = nil, resume: Bool = false) throws -> GRAPETrainer {
      var cfg = c
      cfg.styleAlignSteps = k
      cfg.steps = steps
      let t = try GRAPETrainer(
        config: cfg, source: src, sampler: CyclingSampler(count: src.cellCount, batch: cfg.batchSize, seed: 3),
        run: RunFolder(path: dir ?? temporaryDirectory("align-steps")), resume: resume)
      try t.train()
      return t
    }
    let plain = try trained(nil).networks.stateDict()
    let extra = try trained(2).networks.stateDict()
    for (name, value) in plain {
      let moved = (try #require(extra[name]) - value).abs().max().item > 0
      if name.hasPrefix("discriminator.") || name.hasPrefix("generator.") { #expect(!moved, "\(name) changed") }
    }
    for name in ["gene_embedding.weight", "style_encoder.fc.weight"] {
      #expect((try #require(extra[name]) - (try #require(plain[name]))).abs().max().item > 0, "\(name) did not change")
    }
    let full = try trained(2, steps: 3).networks.stateDict()
    let dir = temporaryDirectory("align-steps-resume")
    _ = try trained(2, steps: 1, dir: dir)
    let resumed = try trained(2, steps: 3, dir: dir, resume: true).networks.stateDict()
    for (k, v) in full { assertClose(try #require(resumed[k]), v, rtol: 0, atol: 0, k) }
    c.styleAlignSteps = -1
    #expect(throws: GRAPEError.self) { try c.validate() }
    c.styleAlignSteps = 2
    c.lambdaStyleAlign = 0
    #expect(c.alignmentOnlySteps == 0)
  }

  /// `objective: encoder_classifier` trains E, F and M by the style–gene alignment alone: D and
  /// G keep their initial weights, the others move, and the log records the alignment loss.
  @Test func encoderClassifierTrainsOnlyTheEncoderAndTheEmbedding() throws {
    var c = try tinyConfig(steps: 2)
    c.objective = .encoderClassifier
    let src = tinySource()
    let dir = temporaryDirectory("encoder-classifier")
    let trainer = try GRAPETrainer(config: c, source: src, sampler: CyclingSampler(count: src.cellCount, batch: c.batchSize, seed: 1), run: RunFolder(path: dir))
    let before = trainer.networks.stateDict()
    #expect(try trainer.train() == 2)
    let after = trainer.networks.stateDict()
    for (name, value) in before {
      let moved = (after[name].map { ($0 - value).abs().max().item } ?? 0) > 0
      if name.hasPrefix("discriminator.") || name.hasPrefix("generator.") {
        #expect(!moved, "\(name) changed")
      }
    }
    for name in ["gene_embedding.weight", "mapping_network.net.0.weight", "style_encoder.fc.weight"] {
      #expect((try #require(after[name]) - (try #require(before[name]))).abs().max().item > 0, "\(name) did not change")
    }
    let rows = try String(contentsOfFile: RunFolder(path: dir).logPath, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t") }
    let column = try #require(rows[0].firstIndex(of: "style_align"))
    #expect(!rows[0].contains("d_cls"))
    #expect(rows[1...].allSatisfy { (Float(String($0[column])) ?? -1) > 0 })
    #expect(throws: GRAPEError.invalidConfig("c.json: objective must be grape or encoder_classifier, got 'gan'")) {
      try c.overridden(with: Data(#"{"objective": "gan"}"#.utf8), source: "c.json")
    }
  }

  /// `max_minutes` stops training with a checkpoint once the time is spent, counted over resumes.
  @Test func timeLimitStopsWithACheckpoint() throws {
    var c = try tinyConfig(steps: 50)
    c.maxMinutes = 1e-7
    let src = tinySource()
    let dir = temporaryDirectory("time-limit")
    let first = try GRAPETrainer(config: c, source: src, sampler: CyclingSampler(count: src.cellCount, batch: c.batchSize, seed: 1), run: RunFolder(path: dir))
    #expect(try first.train() == 1)
    #expect(try RunFolder(path: dir).latestCheckpoint()?.hasSuffix("step-00000001") == true)
    let resumed = try GRAPETrainer(
      config: c, source: src, sampler: CyclingSampler(count: src.cellCount, batch: c.batchSize, seed: 1), run: RunFolder(path: dir), resume: true)
    #expect(try resumed.train() == 1)
    c.maxMinutes = 0
    #expect(throws: GRAPEError.self) { try c.validate() }
  }

  /// One writer per run folder: while one trainer holds a run, a second is refused with an error
  /// naming the folder and the holder, and writes nothing; once the first has trained, the run
  /// can be resumed. A checkpoint folder a killed writer left half-written is removed.
  @Test func aRunFolderHasOneWriter() throws {
    let c = try tinyConfig(steps: 1)
    let src = tinySource()
    let dir = temporaryDirectory("locked")
    func trainer(resume: Bool = false) throws -> GRAPETrainer {
      try GRAPETrainer(config: c, source: src, sampler: CyclingSampler(count: src.cellCount, batch: c.batchSize, seed: 1), run: RunFolder(path: dir), resume: resume)
    }
    let first = try trainer()
    let log = try String(contentsOfFile: RunFolder(path: dir).logPath, encoding: .utf8)
    let refused = #expect(throws: GRAPEError.self) { try trainer() }
    guard case .runInUse(let path, let pid)? = refused else { Issue.record("expected runInUse, got \(String(describing: refused))"); return }
    #expect(path == dir && pid == ProcessInfo.processInfo.processIdentifier)
    #expect(refused?.description.contains("another process") == true)
    #expect(try String(contentsOfFile: RunFolder(path: dir).logPath, encoding: .utf8) == log)
    try first.train()
    let stale = "\(RunFolder(path: dir).checkpointsPath)/.step-00000009.tmp-1"
    try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: true)
    var more = c
    more.steps = 2
    let resumed = try GRAPETrainer(
      config: more, source: src, sampler: CyclingSampler(count: src.cellCount, batch: c.batchSize, seed: 1), run: RunFolder(path: dir), resume: true)
    #expect(!FileManager.default.fileExists(atPath: stale))
    #expect(try resumed.train() == 2)
  }

  /// Resuming from step 2 gives the same weights at step 4 as an uninterrupted run.
  @Test func resumeIsExact() throws {
    let src = tinySource()
    let c = try tinyConfig(steps: 4)
    let full = temporaryDirectory("full")
    let a = try GRAPETrainer(config: c, source: src, sampler: CyclingSampler(count: src.cellCount, batch: 4, seed: 9), run: RunFolder(path: full))
    try a.train()
    var half = c
    half.steps = 2
    let part = temporaryDirectory("part")
    try GRAPETrainer(config: half, source: src, sampler: CyclingSampler(count: src.cellCount, batch: 4, seed: 9), run: RunFolder(path: part)).train()
    let b = try GRAPETrainer(
      config: c, source: src, sampler: CyclingSampler(count: src.cellCount, batch: 4, seed: 12345), run: RunFolder(path: part), resume: true)
    #expect(b.step == 2)
    try b.train()
    let wa = a.networks.stateDict()
    let wb = b.networks.stateDict()
    #expect(wa.keys.sorted() == wb.keys.sorted())
    for (k, v) in wa { assertClose(try #require(wb[k]), v, rtol: 0, atol: 0, k) }
    for (k, v) in a.average.stateDict() { assertClose(try #require(b.average.stateDict()[k]), v, rtol: 0, atol: 0, "ema \(k)") }
    let logA = try String(contentsOfFile: RunFolder(path: full).logPath, encoding: .utf8)
    let logB = try String(contentsOfFile: RunFolder(path: part).logPath, encoding: .utf8)
    #expect(logA.split(separator: "\n").map { $0.split(separator: "\t").dropFirst(2) } == logB.split(separator: "\n").map { $0.split(separator: "\t").dropFirst(2) })
    // Fewer steps than the run has reached: refused, and config.json keeps its steps.
    let before = try Data(contentsOf: URL(fileURLWithPath: RunFolder(path: part).configPath))
    let e = #expect(throws: GRAPEError.self) {
      try GRAPETrainer(config: half, source: src, sampler: CyclingSampler(count: src.cellCount, batch: 4, seed: 9), run: RunFolder(path: part), resume: true)
    }
    #expect(e?.description.contains("at step 4, past the 2 steps") == true, "\(String(describing: e))")
    #expect(try Data(contentsOf: URL(fileURLWithPath: RunFolder(path: part).configPath)) == before)
  }

  @Test func divergenceStopsWithoutTouchingTheLastCheckpoint() throws {
    let dir = temporaryDirectory("nan")
    let good = tinySource()
    var c = try tinyConfig(steps: 2)
    try GRAPETrainer(config: c, source: good, sampler: CyclingSampler(count: good.cellCount, batch: 4, seed: 1), run: RunFolder(path: dir)).train()
    // Continue on data containing NaN pixels.
    let bad = InMemoryCellSource(
      pixels: [Float](repeating: .nan, count: 24 * 4 * 16 * 16), imageShape: [4, 16, 16], genes: good.geneOfCell, batches: good.batchOfCell,
      geneNames: good.geneNames, batchNames: good.batchNames)
    c.steps = 4
    let t = try GRAPETrainer(config: c, source: bad, sampler: CyclingSampler(count: 24, batch: 4, seed: 1), run: RunFolder(path: dir), resume: true)
    do {
      try t.train()
      Issue.record("no divergence error")
    } catch let GRAPEError.diverged(step, loss, _) {
      #expect(step == 3 && loss == "d_real")
    }
    #expect(try RunFolder(path: dir).latestCheckpoint()?.hasSuffix("step-00000002") == true)
  }

  @Test func stopRequestCheckpointsAndReturns() throws {
    let dir = temporaryDirectory("stop")
    let src = tinySource()
    let t = try GRAPETrainer(config: try tinyConfig(steps: 50), source: src, sampler: CyclingSampler(count: 24, batch: 4, seed: 1), run: RunFolder(path: dir))
    t.requestStop()
    #expect(try t.train() == 1)
    #expect(try RunFolder(path: dir).latestCheckpoint()?.hasSuffix("step-00000001") == true)
  }

  @Test func mismatchedDataIsRejected() throws {
    var c = try tinyConfig()
    c.genes = ["A", "B", "C"]
    let src = tinySource()
    #expect(throws: GRAPEError.self) {
      try GRAPETrainer(config: c, source: src, sampler: CyclingSampler(count: 24, batch: 4, seed: 1), run: RunFolder(path: temporaryDirectory("mm")))
    }
  }

  /// A validation (`validation_every`) reads the EMA weights between steps and draws nothing: a
  /// run with it reaches bit for bit the weights of a run without it, its values fill a `val_map`
  /// column on the steps it ran (nan on the others), and it survives a resume — also when the
  /// first part of the run was trained without it.
  @Test func validationDoesNotChangeTrainingAndSurvivesResume() throws {
    let src = tinySource()
    var c = try tinyConfig(steps: 5)
    c.validationEvery = 2
    var measuredSteps: [Int] = []
    let validation = GRAPEValidation(columns: ["val_map"]) { iteration, step in
      measuredSteps.append(step)
      // Reads what the command line scores: the EMA copy of M.
      let m = GRAPEInference.embedding(iteration.average).scalars
      return [Double(m.map { abs($0) }.reduce(0, +))]
    }
    func trainer(_ dir: String, steps: Int, resume: Bool = false, validation: GRAPEValidation?) throws -> GRAPETrainer {
      var cfg = c
      cfg.steps = steps
      return try GRAPETrainer(
        config: cfg, source: src, sampler: CyclingSampler(count: src.cellCount, batch: cfg.batchSize, seed: 1), run: RunFolder(path: dir),
        resume: resume, validation: validation)
    }
    let plainDir = temporaryDirectory("val-off"), validatedDir = temporaryDirectory("val-on"), resumedDir = temporaryDirectory("val-resume")
    let plain = try trainer(plainDir, steps: 5, validation: nil)
    #expect(!plain.validates)
    try plain.train()
    let validated = try trainer(validatedDir, steps: 5, validation: validation)
    #expect(validated.validates)
    var events: [(Int, Double)] = []
    try validated.train { if case .validation(let step, let values, _) = $0 { events.append((step, values["val_map"] ?? .nan)) } }
    #expect(measuredSteps == [2, 4, 5])
    #expect(events.map(\.0) == [2, 4, 5] && events.allSatisfy { $0.1.isFinite && $0.1 > 0 })
    // Half without validation, then resumed with it.
    try trainer(resumedDir, steps: 3, validation: nil).train()
    try trainer(resumedDir, steps: 5, resume: true, validation: validation).train()
    for dir in [validatedDir, resumedDir] {
      for file in ["weights.safetensors", "weights_ema.safetensors", "optimizer.safetensors"] {
        let a = try SafeTensors.read("\(plainDir)/checkpoints/step-00000005/\(file)").tensors
        let b = try SafeTensors.read("\(dir)/checkpoints/step-00000005/\(file)").tensors
        #expect(a.keys.sorted() == b.keys.sorted())
        for (k, v) in a { assertClose(try #require(b[k]), v, rtol: 0, atol: 0, "\(dir) \(file) \(k)") }
      }
    }
    func log(_ dir: String) throws -> [[String]] {
      try String(contentsOfFile: "\(dir)/log.tsv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
    let plainLog = try log(plainDir), validatedLog = try log(validatedDir), resumedLog = try log(resumedDir)
    #expect(plainLog[0].last != "val_map" && validatedLog[0] == plainLog[0] + ["val_map"] && resumedLog[0] == validatedLog[0])
    #expect(validatedLog.count == 6 && resumedLog.count == 6)
    // Losses equal row for row (time_s aside); val_map only on the validated steps.
    for (p, v) in zip(plainLog.dropFirst(), validatedLog.dropFirst()) { #expect(Array(p.dropFirst(2)) == Array(v.dropFirst(2).dropLast())) }
    #expect(validatedLog.dropFirst().map { $0.last ?? "" }.map { $0 == "nan" } == [true, false, true, false, false])
    #expect(resumedLog.dropFirst().map { $0.last ?? "" }.map { $0 == "nan" } == [true, true, true, false, false])
    #expect(Array(resumedLog[4...].map { $0.dropFirst(2) }) == Array(validatedLog[4...].map { $0.dropFirst(2) }))
  }

  /// A log whose columns changed is rewritten by name on a resume: kept values move to their
  /// column, a new column reads nan.
  @Test func logTruncationMatchesColumnsByName() throws {
    let dir = temporaryDirectory("log-columns")
    let path = "\(dir)/log.tsv"
    try "step\ttime_s\ta\tb\n1\t0.1\t1\t2\n2\t0.2\t3\t4\n3\t0.3\t5\t6\n".write(toFile: path, atomically: true, encoding: .utf8)
    try TrainingLog(path: path, valueColumns: ["b", "a", "val_map"]).truncate(after: 2)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "step\ttime_s\tb\ta\tval_map\n1\t0.1\t2\t1\tnan\n2\t0.2\t4\t3\tnan\n")
    try TrainingLog(path: path, valueColumns: ["b", "a", "val_map"]).truncate(after: 1)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "step\ttime_s\tb\ta\tval_map\n1\t0.1\t2\t1\tnan\n")
  }
}
