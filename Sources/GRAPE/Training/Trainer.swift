import Foundation
import Synchronization
import NeuralNet
import TensorCore

/// Draws the cell indices of each mini-batch; its state is saved in checkpoints so a resumed
/// run draws the same batches.
public protocol TrainingSampler: AnyObject {
  /// The next mini-batch of cell indices.
  func next() -> [Int]
  /// The state as JSON.
  func state() throws -> Data
  /// Restores a state written by ``state()``.
  func restore(_ data: Data) throws
}

/// What the trainer reports while it runs.
public enum TrainingEvent {
  /// A logged step: step number, images per second, seconds left, and the losses.
  case step(step: Int, total: Int, imagesPerSecond: Double, secondsLeft: Double, losses: StepLosses)
  /// A checkpoint was written.
  case checkpoint(step: Int, path: String)
  /// Training resumed from a checkpoint.
  case resumed(step: Int, path: String)
}

/// The state saved in `state.json` beside the weights.
struct TrainerState: Codable {
  var step: Int
  var rng: RandomGenerator
  var sampler: String
  var elapsedSeconds: Double
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
      try writeLogHeader()
    }
  }

  /// Asks the loop to checkpoint and return after the current step (safe from a signal handler).
  public func requestStop() { stopFlag.set() }

  /// Runs until `config.steps`, calling `progress` at every logged step and checkpoint.
  /// - Returns: the step reached.
  @discardableResult
  public func train(progress: (TrainingEvent) -> Void = { _ in }) throws -> Int {
    let total = config.steps
    let transform = try (config.inputTransform ?? .identity).bound(to: source)
    var windowStart = monotonicSeconds()
    var windowSteps = 0
    while step < total {
      let t0 = monotonicSeconds()
      let indices = sampler.next()
      let images = try source.inputs(indices, transform: transform)
      let genes = indices.map { source.geneOfCell[$0] }
      let targets = (0..<indices.count).map { _ in rng.int(below: config.genes.count) }
      let batch = GRAPEBatch(images: images, genes: genes, targets: targets, batches: indices.map { source.batchOfCell[$0] })
      var losses = StepLosses()
      GRAPEStep.discriminator(networks, optimizers, batch: batch, config: config, losses: &losses, timings: &timings)
      GRAPEStep.generator(networks, optimizers, batch: batch, config: config, regularizer: regularizer, losses: &losses, timings: &timings)
      if let (name, value) = losses.firstNonFinite { throw GRAPEError.diverged(step: step + 1, loss: name, value: value) }
      step += 1
      GRAPEStep.updateAverage(ema: average, networks: networks, step: step, config: config, timings: &timings)
      elapsed += monotonicSeconds() - t0
      windowSteps += 1
      if step % config.logEvery == 0 || step == total {
        let now = monotonicSeconds()
        let rate = Double(windowSteps * config.batchSize) / max(now - windowStart, 1e-9)
        try appendLog(losses)
        progress(.step(step: step, total: total, imagesPerSecond: rate, secondsLeft: Double((total - step) * config.batchSize) / max(rate, 1e-9), losses: losses))
        windowStart = now
        windowSteps = 0
      }
      let stopping = stopFlag.isSet
      if step % config.checkpointEvery == 0 || step == total || stopping {
        let path = try saveCheckpoint()
        progress(.checkpoint(step: step, path: path))
      }
      if stopping { break }
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
    let state = TrainerState(step: step, rng: rng, sampler: String(decoding: try sampler.state(), as: UTF8.self), elapsedSeconds: elapsed)
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    let stateData = try enc.encode(state)
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
    guard let data = FileManager.default.contents(atPath: "\(dir)/state.json") else {
      throw GRAPEError.invalidRun(path: "\(dir)/state.json", reason: "missing")
    }
    let state = try JSONDecoder().decode(TrainerState.self, from: data)
    step = state.step
    rng = state.rng
    elapsed = state.elapsedSeconds
    try sampler.restore(Data(state.sampler.utf8))
    try truncateLog(after: step)
  }

  // MARK: Log

  private func writeLogHeader() throws {
    let names = ["step", "time_s"] + StepLosses().fields.map(\.0) + (regularizer?.loggedNames.sorted() ?? [])
    try AtomicFile.write(names.joined(separator: "\t") + "\n", to: run.logPath)
  }

  private func appendLog(_ losses: StepLosses) throws {
    let row = ([String(step), String(format: "%.3f", elapsed)] + losses.fields.map { String(format: "%.6g", Double($0.1)) }).joined(separator: "\t") + "\n"
    guard let h = FileHandle(forWritingAtPath: run.logPath) else {
      throw GRAPEError.invalidRun(path: run.logPath, reason: "cannot append to the log")
    }
    defer { try? h.close() }
    try h.seekToEnd()
    try h.write(contentsOf: Data(row.utf8))
  }

  /// Drops log rows after `step` (a resumed run logs them again).
  private func truncateLog(after step: Int) throws {
    guard let text = try? String(contentsOfFile: run.logPath, encoding: .utf8) else { return try writeLogHeader() }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    guard !lines.isEmpty else { return try writeLogHeader() }
    let header = lines.removeFirst()
    let kept = lines.filter { line in Int(line.split(separator: "\t").first ?? "") ?? Int.max <= step }
    try AtomicFile.write(([header] + kept).joined(separator: "\n") + "\n", to: run.logPath)
  }
}

/// A flag set from a signal handler and read by the training loop.
final class StopFlag: Sendable {
  private let value = Atomic<Int>(0)
  func set() { value.store(1, ordering: .relaxed) }
  var isSet: Bool { value.load(ordering: .relaxed) != 0 }
}
