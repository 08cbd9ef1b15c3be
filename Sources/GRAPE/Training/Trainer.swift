import GrapeSupport
import Foundation
import NeuralNet
import TensorCore
import Training

/// What the GRAPE trainer reports while it runs (items are images).
public typealias GRAPETrainingEvent = TrainingEvent<StepLosses>

/// A measurement of a GRAPE run taken every `validation_every` steps while it trains (`grape
/// train` scores the EMA gene embedding against CORUM complexes and logs `val_map`): the
/// `log.tsv` columns it fills and the function that measures the iteration after a step. It
/// must only read the networks (``GRAPEIteration/average`` is the EMA copy that `grape export`
/// writes) and draw no random numbers of the run.
public struct GRAPEValidation {
  /// The columns of `log.tsv` it fills, after the losses.
  public var columns: [String]
  /// One value per column (NaN where undefined) for the iteration after step `step`.
  public var measure: (_ iteration: GRAPEIteration, _ step: Int) throws -> [Double]

  public init(columns: [String], measure: @escaping (_ iteration: GRAPEIteration, _ step: Int) throws -> [Double]) {
    self.columns = columns
    self.measure = measure
  }
}

/// Trains a GRAPE model on a cell source, writing the run folder as it goes.
///
/// Each iteration draws a class-balanced mini-batch, draws target genes uniformly, runs the D
/// step (with R1), the G step and the EMA update. Losses are checked every step: a non-finite
/// one stops training with ``GRAPEError/diverged(step:loss:value:)`` and writes nothing, so the
/// last good checkpoint stays `latest`. ``requestStop()`` (Ctrl-C) makes the loop write a
/// checkpoint after the current step and return. The loop itself (log, checkpoints, resume,
/// time budget) is ``TrainingLoop``; this class is the step it drives.
public final class GRAPETrainer {
  /// The checkpointed loop that drives the iteration.
  public let loop: TrainingLoop<GRAPEIteration>
  /// The allreduce that averages gradients over the ranks of a data-parallel run (its time and
  /// bytes are reported after training), nil in one process.
  public var gradientReducer: AllreduceGradients?

  /// Prepares a run: builds networks from `config.seed`, writes `config.json`, or with
  /// `resume` restores the newest checkpoint of `run`. A `validation` runs every
  /// `validation_every` steps of the configuration (not at all when that is 0 or absent); its
  /// columns join the log's.
  public init(
    config: GRAPEConfig, source: CellSource, sampler: TrainingSampler, run: RunFolder, regularizer: StyleEncoderRegularizer? = nil,
    resume: Bool = false, group: ProcessGroup = .single, validation: GRAPEValidation? = nil
  ) throws {
    try config.validate()
    let parts = group.size * (config.microBatches ?? 1)
    guard config.batchSize % parts == 0 else {
      throw GRAPEError.invalidConfig(
        "batch_size \(config.batchSize) cannot be shared evenly by \(group.size) ranks × \(config.microBatches ?? 1) micro-batches; choose a multiple of \(parts)")
    }
    guard config.genes == source.geneNames else {
      throw GRAPEError.dataMismatch("the configuration's genes differ from the data's (\(config.genes.count) vs \(source.geneNames.count))")
    }
    guard source.imageShape == [config.inChannels, config.imgSize, config.imgSize] else {
      throw GRAPEError.dataMismatch("the data's crops are \(source.imageShape), the model expects [\(config.inChannels), \(config.imgSize), \(config.imgSize)]")
    }
    var root = RandomGenerator(seed: config.seed)
    var modelRng = root.split()
    let rng = root.split()
    let iteration = try GRAPEIteration(config: config, source: source, regularizer: regularizer, group: group, rng: &modelRng)
    let schedule = TrainingSchedule(
      steps: config.steps, maxMinutes: config.maxMinutes, logEvery: config.logEvery, checkpointEvery: config.checkpointEvery)
    loop = TrainingLoop(task: iteration, run: run, sampler: sampler, rng: rng, schedule: schedule, group: group)
    if let validation, let every = config.validationInterval {
      loop.validation = TrainingValidation(every: every, columns: validation.columns, measure: validation.measure)
    }
    try loop.acquireLock()
    if resume {
      guard try loop.resume() else { throw GRAPEError.invalidRun(path: run.path, reason: "--resume given but no checkpoint exists") }
      // The steps and time budget of a resumed run may have changed.
      if group.isPrimary { try run.writeConfig(config) }
    } else {
      if group.isPrimary { try run.writeConfig(config) }
      try loop.start()
    }
  }

  public var config: GRAPEConfig { loop.task.config }
  /// Cells of the training data.
  public var cellCount: Int { loop.task.source.cellCount }
  public var networks: GRAPENetworks { loop.task.networks }
  public var average: GRAPENetworks { loop.task.average }
  public var optimizers: GRAPEOptimizers { loop.task.optimizers }
  public var regularizer: StyleEncoderRegularizer? { loop.task.regularizer }
  public var run: RunFolder { loop.run }
  /// Accumulated time split of the iterations run in this process.
  public var timings: StepTimings { loop.task.timings }

  /// Steps completed.
  public var step: Int { loop.step }

  /// Whether a validation runs while this trainer trains (one was given and `validation_every`
  /// is positive).
  public var validates: Bool { loop.validation != nil }

  /// Asks the loop to checkpoint and return after the current step (safe from a signal handler).
  public func requestStop() { loop.requestStop() }

  /// Whether ``requestStop()`` was called.
  public var stopRequested: Bool { loop.stopRequested }

  /// Runs until `config.steps` (or until `config.maxMinutes` of training have run), calling
  /// `progress` at every logged step and checkpoint. With zero steps on a new run it writes the
  /// initial weights as checkpoint `step-00000000`.
  /// - Returns: the step reached.
  @discardableResult
  public func train(progress: (GRAPETrainingEvent) -> Void = { _ in }) throws -> Int {
    defer { loop.releaseLock() }
    let reached = try loop.train(progress: progress)
    // `--steps 0` on a new run keeps the initialised networks as a checkpoint: an untrained
    // baseline that `export`, `encode` and `transfer` read like any other.
    if reached == 0, loop.group.isPrimary, try run.latestCheckpoint() == nil {
      progress(.checkpoint(step: 0, path: try loop.saveCheckpoint()))
    }
    if loop.group.isPrimary { try LossCurve.write(run: run) }
    return reached
  }

  /// Writes weights, EMA weights, optimiser state and trainer state for the current step.
  @discardableResult
  public func saveCheckpoint() throws -> String { try loop.saveCheckpoint() }
}

/// The networks, optimisers and EMA copy of a GRAPE run, and the iteration that
/// ``TrainingLoop`` drives: what ``GRAPETrainer`` trains.
public final class GRAPEIteration: TrainingTask {
  public let config: GRAPEConfig
  public let networks: GRAPENetworks
  public let average: GRAPENetworks
  public let optimizers: GRAPEOptimizers
  public let regularizer: StyleEncoderRegularizer?
  /// The ranks that share each mini-batch (one process unless data-parallel).
  public let group: ProcessGroup
  let source: CellSource
  let transform: InputTransform
  /// Accumulated time split of the iterations run in this process.
  public private(set) var timings = StepTimings()

  /// Builds the networks from `rng` (the EMA copy starts as a copy of them).
  init(config: GRAPEConfig, source: CellSource, regularizer: StyleEncoderRegularizer?, group: ProcessGroup = .single, rng: inout RandomGenerator) throws {
    self.config = config
    self.group = group
    self.source = source
    self.regularizer = regularizer
    transform = try (config.inputTransform ?? .identity).bound(to: source)
    networks = GRAPENetworks(config: config, rng: &rng)
    var emaRng = RandomGenerator(seed: 0)
    average = GRAPENetworks(config: config, withDiscriminator: false, rng: &emaRng)
    for name in averagedModuleNames {
      if let t = average.child(named: name), let s = networks.child(named: name) { WeightAverage.copy(from: s, to: t) }
    }
    optimizers = GRAPEOptimizers(networks: networks, config: config, regularizer: regularizer)
  }

  // MARK: The step

  /// One GRAPE iteration: the D step, the G step, any alignment-only updates
  /// (`style_align_steps`) and the EMA update.
  ///
  /// Data-parallel, every rank draws the same mini-batch and target genes (the sampler and the
  /// random generator are the global ones) and computes on its own share of the cells; the
  /// optimisers average the gradients over the ranks. With `micro_batches` k, each share is
  /// computed in k parts whose gradients are averaged before each update (gradient
  /// accumulation), which gives a process the arithmetic of k ranks.
  public func step(_ number: Int, sampler: TrainingSampler, rng: inout RandomGenerator) throws -> (items: Int, losses: StepLosses) {
    let drawn = sampler.next()
    let targets = (0..<drawn.count).map { _ in rng.int(below: config.genes.count) }
    let ranges = parts(of: drawn.count)
    var batches = try ranges.map { try realCells(Array(drawn[$0]), targets: Array(targets[$0])) }
    if config.extraAlignmentCells > 0 {
      var extra: [Int] = []
      while extra.count < config.extraAlignmentCells { extra += sampler.next() }
      extra = Array(extra.prefix(config.extraAlignmentCells))
      for (i, range) in parts(of: extra.count).enumerated() {
        let cells = Array(extra[range])
        batches[i].alignmentImages = try source.inputs(cells, transform: transform)
        batches[i].alignmentGenes = cells.map { source.geneOfCell[$0] }
      }
    }
    let (n, opt, c) = (networks, optimizers, config)
    let encoderOptimizers = [opt.styleEncoder, opt.mapping, opt.embedding]
    var losses: StepLosses
    if config.trainsEncoderClassifier {
      losses = update(batches, encoderOptimizers) { b, l, apply in
        GRAPEStep.encoderClassifier(n, opt, batch: b, config: c, losses: &l, timings: &timings, applyUpdates: apply)
      }
    } else {
      losses = update(batches, [opt.discriminator]) { b, l, apply in
        GRAPEStep.discriminator(n, opt, batch: b, config: c, step: number, losses: &l, timings: &timings, applyUpdates: apply)
      }
      let g = update(batches, [opt.generator, opt.mapping, opt.embedding, opt.styleEncoder]) { b, l, apply in
        GRAPEStep.generator(n, opt, batch: b, config: c, step: number, regularizer: regularizer, losses: &l, timings: &timings, applyUpdates: apply)
      }
      (losses.gAdv, losses.gCyc, losses.gSty, losses.gTotal) = (g.gAdv, g.gCyc, g.gSty, g.gTotal)
      losses.extra.merge(g.extra) { _, new in new }
      for _ in 0..<config.alignmentOnlySteps {
        // `style_align_steps`: further real cells update E, F and M by the alignment alone.
        let all = sampler.next()
        let cells = try parts(of: all.count).map { try realCells(Array(all[$0])) }
        let alignLosses = update(cells, encoderOptimizers) { b, l, apply in
          GRAPEStep.encoderClassifier(n, opt, batch: b, config: c, losses: &l, timings: &timings, applyUpdates: apply)
        }
        if let (name, value) = alignLosses.firstNonFinite { throw GRAPEError.diverged(step: number, loss: name, value: value) }
      }
    }
    if let (name, value) = losses.firstNonFinite { throw GRAPEError.diverged(step: number, loss: name, value: value) }
    GRAPEStep.updateAverage(ema: average, networks: networks, step: number, config: config, timings: &timings)
    return (drawn.count, losses)
  }

  /// This process's cells of `count` drawn ones, as ranges of its micro-batches: its share of
  /// the ranks (``ProcessGroup/share(of:)``) cut into `micro_batches` contiguous parts.
  private func parts(of count: Int) -> [Range<Int>] {
    let mine = group.share(of: count)
    let k = max(1, min(config.microBatches ?? 1, mine.count))
    return (0..<k).map { p in
      (mine.lowerBound + p * mine.count / k)..<(mine.lowerBound + (p + 1) * mine.count / k)
    }
  }

  /// One update over micro-batches: `body` runs a step function on each part (updating itself
  /// when there is one part, as without micro-batches); with several, it leaves its gradients,
  /// which add up over the parts, and the mean is applied by `optimizers` in their order.
  /// Returns the mean of the parts' losses.
  private func update(
    _ parts: [GRAPEBatch], _ optimizers: [Adam], _ body: (GRAPEBatch, inout StepLosses, Bool) -> Void
  ) -> StepLosses {
    guard parts.count > 1 else {
      var losses = StepLosses()
      if let only = parts.first { body(only, &losses, true) }
      return losses
    }
    var each: [StepLosses] = []
    for part in parts {
      var l = StepLosses()
      body(part, &l, false)
      each.append(l)
    }
    let scale = 1 / Float(parts.count)
    for o in optimizers {
      for group in o.groups {
        for (_, p) in group.parameters { if let g = p.grad { p.grad = g * scale } }
      }
      o.step()
    }
    return StepLosses.mean(of: each)
  }

  /// The network inputs, genes and batches of cells `indices` (and the translation targets).
  private func realCells(_ indices: [Int], targets: [Int] = []) throws -> GRAPEBatch {
    GRAPEBatch(
      images: try source.inputs(indices, transform: transform), genes: indices.map { source.geneOfCell[$0] }, targets: targets,
      batches: indices.map { source.batchOfCell[$0] })
  }

  // MARK: Log and checkpoints

  /// `log.tsv`: the losses of ``StepLosses``, then the extra terms (the D step's and the
  /// regulariser's) in name order, as ``StepLosses/fields`` lists them.
  public var logColumns: [String] {
    let extra = GRAPEStep.loggedNames(config) + (regularizer?.loggedNames ?? [])
    return StepLosses().fields.map(\.0) + extra.sorted()
  }

  public func logValues(_ losses: StepLosses) -> [Float] { losses.values(of: logColumns) }

  public var checkpointMetadata: [String: String] { ["format": "grape-run"] }

  /// `weights.safetensors` (with the regulariser's parameters), `weights_ema.safetensors` and
  /// `optimizer.safetensors`.
  public func checkpointTensors() -> [(file: String, tensors: [String: Tensor])] {
    var weights = networks.stateDict()
    if let r = regularizer { for (n, p) in r.savedParameters { weights[n] = p.value.detached() } }
    var optState: [String: Tensor] = [:]
    for (_, o) in optimizers.all { optState.merge(o.state()) { a, _ in a } }
    return [("weights.safetensors", weights), ("weights_ema.safetensors", average.stateDict()), ("optimizer.safetensors", optState)]
  }

  public func restore(checkpoint dir: String) throws {
    let weights = try SafeTensors.read("\(dir)/weights.safetensors").tensors
    do {
      var own = weights
      if let r = regularizer {
        for (n, p) in r.savedParameters {
          guard let t = own.removeValue(forKey: n) else { throw GRAPEError.invalidRun(path: dir, reason: "weights lack \(n)") }
          p.assign(t)
        }
      }
      try networks.load(own)
      try average.load(try SafeTensors.read("\(dir)/weights_ema.safetensors").tensors)
    } catch let e as StateDictError {
      throw GRAPEError.invalidRun(path: dir, reason: e.description)
    }
    let opt = try SafeTensors.read("\(dir)/optimizer.safetensors").tensors
    for (_, o) in optimizers.all { try o.load(state: opt) }
  }
}
