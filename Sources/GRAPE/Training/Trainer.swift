import GrapeSupport
import Foundation
import NeuralNet
import TensorCore
import Training

/// What the trainer reports while it runs.
public enum TrainingEvent {
  /// A logged step: step number, images per second, seconds left, and the losses.
  case step(step: Int, total: Int, imagesPerSecond: Double, secondsLeft: Double, losses: StepLosses)
  /// A checkpoint was written.
  case checkpoint(step: Int, path: String)
  /// Training resumed from a checkpoint.
  case resumed(step: Int, path: String)
}

/// Trains a GRAPE model on a cell source, writing the run folder as it goes.
///
/// Each iteration draws a class-balanced mini-batch, draws target genes uniformly, runs the D
/// step (with R1), the G step and the EMA update. Losses are checked every step: a non-finite
/// one stops training with ``GRAPEError/diverged(step:loss:value:)`` and writes nothing, so the
/// last good checkpoint stays `latest`. ``requestStop()`` (Ctrl-C) makes the loop write a
/// checkpoint after the current step and return.
public final class GRAPETrainer {
  public let config: GRAPEConfig
  public let networks: GRAPENetworks
  public let average: GRAPENetworks
  public let optimizers: GRAPEOptimizers
  public let run: RunFolder
  public let regularizer: StyleEncoderRegularizer?
  let source: CellSource
  let sampler: TrainingSampler
  var rng: RandomGenerator
  public private(set) var step = 0
  var elapsed = 0.0
  /// Accumulated time split of the iterations run in this process.
  public private(set) var timings = StepTimings()
  private let stopFlag = StopFlag()

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
    self.config = config
    self.source = source
    self.sampler = sampler
    self.run = run
    self.regularizer = regularizer
    var root = RandomGenerator(seed: config.seed)
    var modelRng = root.split()
    rng = root.split()
    networks = GRAPENetworks(config: config, rng: &modelRng)
    var emaRng = RandomGenerator(seed: 0)
    average = GRAPENetworks(config: config, withDiscriminator: false, rng: &emaRng)
    for name in averagedModuleNames {
      if let t = average.child(named: name), let s = networks.child(named: name) { WeightAverage.copy(from: s, to: t) }
    }
    optimizers = GRAPEOptimizers(networks: networks, config: config, regularizer: regularizer)
    if resume, let ckpt = try run.latestCheckpoint() {
      try restore(from: ckpt)
    } else {
      if resume { throw GRAPEError.invalidRun(path: run.path, reason: "--resume given but no checkpoint exists") }
      try run.writeConfig(config)
      try log.start()
    }
  }

  /// `log.tsv`: the losses of ``StepLosses``, then the extra terms (the D step's and the
  /// regulariser's) in name order, as ``StepLosses/fields`` lists them.
  var log: TrainingLog {
    let extra = GRAPEStep.loggedNames(config) + (regularizer?.loggedNames ?? [])
    return TrainingLog(path: run.logPath, valueColumns: StepLosses().fields.map(\.0) + extra.sorted())
  }

  /// Asks the loop to checkpoint and return after the current step (safe from a signal handler).
  public func requestStop() { stopFlag.set() }

  /// Whether ``requestStop()`` was called.
  public var stopRequested: Bool { stopFlag.isSet }

  /// Runs until `config.steps` (or until `config.maxMinutes` of training have run), calling `progress` at every logged step and checkpoint. With
  /// zero steps on a new run it writes the initial weights as checkpoint `step-00000000`.
  /// - Returns: the step reached.
  @discardableResult
  public func train(progress: (TrainingEvent) -> Void = { _ in }) throws -> Int {
    let total = config.steps
    let transform = try (config.inputTransform ?? .identity).bound(to: source)
    var window = ThroughputWindow()
    while step < total {
      if let m = config.maxMinutes, elapsed >= m * 60 { break }
      let t0 = monotonicSeconds()
      let indices = sampler.next()
      let images = try source.inputs(indices, transform: transform)
      let genes = indices.map { source.geneOfCell[$0] }
      let targets = (0..<indices.count).map { _ in rng.int(below: config.genes.count) }
      var batch = GRAPEBatch(images: images, genes: genes, targets: targets, batches: indices.map { source.batchOfCell[$0] })
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
          let more = sampler.next()
          let cells = GRAPEBatch(
            images: try source.inputs(more, transform: transform), genes: more.map { source.geneOfCell[$0] }, targets: [],
            batches: more.map { source.batchOfCell[$0] })
          var alignLosses = StepLosses()
          GRAPEStep.encoderClassifier(networks, optimizers, batch: cells, config: config, losses: &alignLosses, timings: &timings)
          if let (name, value) = alignLosses.firstNonFinite { throw GRAPEError.diverged(step: step + 1, loss: name, value: value) }
        }
      }
      if let (name, value) = losses.firstNonFinite { throw GRAPEError.diverged(step: step + 1, loss: name, value: value) }
      step += 1
      GRAPEStep.updateAverage(ema: average, networks: networks, step: step, config: config, timings: &timings)
      elapsed += monotonicSeconds() - t0
      window.add(indices.count)
      if step % config.logEvery == 0 || step == total {
        let rate = window.rate()
        let log = self.log
        try log.append(step: step, elapsedSeconds: elapsed, values: losses.values(of: log.valueColumns))
        progress(.step(step: step, total: total, imagesPerSecond: rate, secondsLeft: Double((total - step) * config.batchSize) / max(rate, 1e-9), losses: losses))
      }
      let outOfTime = config.maxMinutes.map { elapsed >= $0 * 60 } ?? false
      let stopping = stopFlag.isSet || outOfTime
      if step % config.checkpointEvery == 0 || step == total || stopping {
        let path = try saveCheckpoint()
        progress(.checkpoint(step: step, path: path))
      }
      if stopping { break }
    }
    // `--steps 0` on a new run keeps the initialised networks as a checkpoint: an untrained
    // baseline that `export`, `encode` and `transfer` read like any other.
    if step == 0, try run.latestCheckpoint() == nil {
      let path = try saveCheckpoint()
      progress(.checkpoint(step: 0, path: path))
    }
    try LossCurve.write(run: run)
    return step
  }

  // MARK: Checkpoints

  /// Writes weights, EMA weights, optimiser state and trainer state for the current step.
  @discardableResult
  public func saveCheckpoint() throws -> String {
    var weights = networks.stateDict()
    if let r = regularizer { for (n, p) in r.savedParameters { weights[n] = p.value.detached() } }
    let ema = average.stateDict()
    var optState: [String: Tensor] = [:]
    for (_, o) in optimizers.all { optState.merge(o.state()) { a, _ in a } }
    let stateData = try RunState(step: step, rng: rng, sampler: String(decoding: try sampler.state(), as: UTF8.self), elapsedSeconds: elapsed).jsonData()
    let meta = ["step": String(step), "format": "grape-run"]
    return try run.writeCheckpoint(step: step) { dir in
      try SafeTensors.write(weights, metadata: meta, to: "\(dir)/weights.safetensors")
      try SafeTensors.write(ema, metadata: meta, to: "\(dir)/weights_ema.safetensors")
      try SafeTensors.write(optState, metadata: meta, to: "\(dir)/optimizer.safetensors")
      try AtomicFile.write(stateData, to: "\(dir)/state.json")
    }
  }

  private func restore(from dir: String) throws {
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
    let state = try RunState.read(checkpoint: dir)
    step = state.step
    rng = state.rng
    elapsed = state.elapsedSeconds
    try sampler.restore(Data(state.sampler.utf8))
    try log.truncate(after: step)
  }
}
