import GrapeSupport
import Foundation
import NeuralNet
import TensorCore
import Training

/// What the GRAPE trainer reports while it runs (items are images).
public typealias GRAPETrainingEvent = TrainingEvent<StepLosses>

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

  /// Prepares a run: builds networks from `config.seed`, writes `config.json`, or with
  /// `resume` restores the newest checkpoint of `run`.
  public init(
    config: GRAPEConfig, source: CellSource, sampler: TrainingSampler, run: RunFolder, regularizer: StyleEncoderRegularizer? = nil,
    resume: Bool = false
  ) throws {
    try config.validate()
    guard config.genes == source.geneNames else {
      throw GRAPEError.dataMismatch("the configuration's genes differ from the data's (\(config.genes.count) vs \(source.geneNames.count))")
    }
    guard source.imageShape == [config.inChannels, config.imgSize, config.imgSize] else {
      throw GRAPEError.dataMismatch("the data's crops are \(source.imageShape), the model expects [\(config.inChannels), \(config.imgSize), \(config.imgSize)]")
    }
    var root = RandomGenerator(seed: config.seed)
    var modelRng = root.split()
    let rng = root.split()
    let iteration = try GRAPEIteration(config: config, source: source, regularizer: regularizer, rng: &modelRng)
    let schedule = TrainingSchedule(
      steps: config.steps, maxMinutes: config.maxMinutes, logEvery: config.logEvery, checkpointEvery: config.checkpointEvery)
    loop = TrainingLoop(task: iteration, run: run, sampler: sampler, rng: rng, schedule: schedule)
    try loop.acquireLock()
    if resume {
      guard try loop.resume() else { throw GRAPEError.invalidRun(path: run.path, reason: "--resume given but no checkpoint exists") }
      // The steps and time budget of a resumed run may have changed.
      try run.writeConfig(config)
    } else {
      try run.writeConfig(config)
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
    if reached == 0, try run.latestCheckpoint() == nil {
      progress(.checkpoint(step: 0, path: try loop.saveCheckpoint()))
    }
    try LossCurve.write(run: run)
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
  let source: CellSource
  let transform: InputTransform
  /// Accumulated time split of the iterations run in this process.
  public private(set) var timings = StepTimings()

  /// Builds the networks from `rng` (the EMA copy starts as a copy of them).
  init(config: GRAPEConfig, source: CellSource, regularizer: StyleEncoderRegularizer?, rng: inout RandomGenerator) throws {
    self.config = config
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
  public func step(_ number: Int, sampler: TrainingSampler, rng: inout RandomGenerator) throws -> (items: Int, losses: StepLosses) {
    let indices = sampler.next()
    let targets = (0..<indices.count).map { _ in rng.int(below: config.genes.count) }
    var batch = try realCells(indices, targets: targets)
    if config.extraAlignmentCells > 0 {
      var extra: [Int] = []
      while extra.count < config.extraAlignmentCells { extra += sampler.next() }
      extra = Array(extra.prefix(config.extraAlignmentCells))
      batch.alignmentImages = try source.inputs(extra, transform: transform)
      batch.alignmentGenes = extra.map { source.geneOfCell[$0] }
    }
    var losses = StepLosses()
    if config.trainsEncoderClassifier {
      GRAPEStep.encoderClassifier(networks, optimizers, batch: batch, config: config, losses: &losses, timings: &timings)
    } else {
      GRAPEStep.discriminator(networks, optimizers, batch: batch, config: config, losses: &losses, timings: &timings)
      GRAPEStep.generator(networks, optimizers, batch: batch, config: config, regularizer: regularizer, losses: &losses, timings: &timings)
      for _ in 0..<config.alignmentOnlySteps {
        // `style_align_steps`: further real cells update E, F and M by the alignment alone.
        let cells = try realCells(sampler.next())
        var alignLosses = StepLosses()
        GRAPEStep.encoderClassifier(networks, optimizers, batch: cells, config: config, losses: &alignLosses, timings: &timings)
        if let (name, value) = alignLosses.firstNonFinite { throw GRAPEError.diverged(step: number, loss: name, value: value) }
      }
    }
    if let (name, value) = losses.firstNonFinite { throw GRAPEError.diverged(step: number, loss: name, value: value) }
    GRAPEStep.updateAverage(ema: average, networks: networks, step: number, config: config, timings: &timings)
    return (indices.count, losses)
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
