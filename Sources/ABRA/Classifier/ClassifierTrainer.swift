import GrapeSupport
import Foundation
import Training
import NeuralNet
import TensorCore

/// What the classifier trainer reports while it runs (items are cells).
public typealias ClassifierEvent = TrainingEvent<ClassifierLosses>

/// Trains the perturbation classifier (`grape classify train`) on the batches that are not held
/// out, writing a run folder as GRAPE does:
///
/// ```
/// RUN/config.json                  the ClassifierConfig
/// RUN/log.tsv                      step, time and the losses of ClassifierLosses
/// RUN/checkpoints/step-XXXXXXXX/   weights.safetensors (parameters and BatchNorm buffers),
///                                  optimizer.safetensors, state.json (step, RNG, sampler state)
/// RUN/checkpoints/latest
/// ```
///
/// Each step draws a mini-batch from the sampler, which must be plate-consistent (all cells from
/// one batch, Eq. 3) and contain no held-out cell; anything else stops training with
/// ``ABRAError/invalidMiniBatch(step:reason:)``. A non-finite loss stops with
/// ``ABRAError/diverged(step:loss:value:)`` before anything is written.
public final class ClassifierTrainer {
  /// The checkpointed loop that drives the classifier's step.
  public let loop: TrainingLoop<ClassifierIteration>

  /// Prepares a run: builds the model from `config.seed` and writes `config.json`, or with
  /// `resume` restores the newest checkpoint of `run`.
  ///
  /// - Parameters:
  ///   - config: the run's configuration (``ClassifierConfig/init(method:source:holdoutBatches:)``).
  ///   - source: the cells; its genes, batches and crop shape must be the configuration's.
  ///   - sampler: plate-consistent, gene-balanced mini-batches drawn from the training cells
  ///     (``trainingCells(source:holdoutBatches:)``).
  ///   - run: the folder to write.
  ///   - resume: continue from the newest checkpoint.
  /// - Throws: ``ABRAError`` for unknown held-out names, single-cell training batches, no
  ///   training cells, data that does not fit, or a run that cannot be resumed.
  public init(config: ClassifierConfig, source: CellSource, sampler: TrainingSampler, run: RunFolder, resume: Bool = false) throws {
    try config.validate()
    try ClassifierTrainer.checkData(source, config: config)
    let heldOutIndices = try config.heldOutBatchIndices()
    let split = try ClassifierSplit(config: config, source: source)
    var root = RandomGenerator(seed: config.seed)
    var modelRng = root.split()
    let rng = root.split()
    let iteration = ClassifierIteration(config: config, source: source, heldOut: Set(heldOutIndices), split: split, rng: &modelRng)
    loop = TrainingLoop(
      task: iteration, run: run, sampler: sampler, rng: rng,
      schedule: TrainingSchedule(steps: config.steps, logEvery: config.logEvery, checkpointEvery: config.checkpointEvery))
    try loop.acquireLock()
    if resume, try run.latestCheckpoint() != nil {
      try ClassifierTrainer.checkResumable(config, run: run)
      try loop.resume()
    } else {
      if resume { throw ABRAError.invalidRun(path: run.path, reason: "resume requested but no checkpoint exists") }
      try Folder.create(run.path)
      try AtomicFile.write(try config.jsonData(), to: run.configPath)
      try loop.start()
    }
  }

  /// The configuration (saved as `config.json`).
  public var config: ClassifierConfig { loop.task.config }
  /// Cells of the data, held-out batches included.
  public var cellCount: Int { loop.task.source.cellCount }
  /// The model being trained.
  public var model: CellClassifier { loop.task.model }
  /// The run folder.
  public var run: RunFolder { loop.run }
  /// Adam over every parameter but K.
  public var optimizer: Adam { loop.task.optimizer }
  /// Maximising Adam over K (ABRA with `abra_ascent` = `adam`).
  public var ascentOptimizer: Adam? { loop.task.ascentOptimizer }
  /// Steps completed.
  public var step: Int { loop.step }
  /// The training, validation and held-out cells.
  public var split: ClassifierSplit { loop.task.split }

  /// Indices of the batches of `source` left out of training: the held-out ones and, when
  /// `trainBatches` is not empty, every batch it does not name.
  public static func excludedBatches(source: CellSource, holdoutBatches: [String], trainBatches: [String]) -> Set<Int> {
    Set(source.batchNames.indices.filter {
      let name = source.batchNames[$0]
      return holdoutBatches.contains(name) || (!trainBatches.isEmpty && !trainBatches.contains(name))
    })
  }

  /// The cells of the batches that are not held out (and, when `trainBatches` is not empty, that
  /// it names: a run may train on some experiments only, to measure how generalisation grows with
  /// their number).
  ///
  /// - Throws: ``ABRAError/unknownBatches(names:known:)`` naming unknown batches,
  ///   ``ABRAError/singleCellBatch(name:)`` for a training batch with one cell,
  ///   ``ABRAError/noTrainingCells(heldOut:)`` when nothing is left.
  public static func trainingCells(source: CellSource, holdoutBatches: [String], trainBatches: [String] = []) throws -> [Int] {
    let unknown = (holdoutBatches + trainBatches).filter { !source.batchNames.contains($0) }
    guard unknown.isEmpty else { throw ABRAError.unknownBatches(names: unknown, known: source.batchNames) }
    let excluded = excludedBatches(source: source, holdoutBatches: holdoutBatches, trainBatches: trainBatches)
    var counts = [Int](repeating: 0, count: source.batchNames.count)
    var cells: [Int] = []
    for (i, b) in source.batchOfCell.enumerated() where !excluded.contains(b) {
      guard b >= 0, b < counts.count else {
        throw ABRAError.dataMismatch("cell \(i) has batch index \(b), outside the \(counts.count) batch names")
      }
      counts[b] += 1
      cells.append(i)
    }
    if let single = counts.indices.first(where: { counts[$0] == 1 }) { throw ABRAError.singleCellBatch(name: source.batchNames[single]) }
    guard !cells.isEmpty else { throw ABRAError.noTrainingCells(heldOut: holdoutBatches) }
    return cells
  }

  /// Checks that `source` is the data `config` describes.
  static func checkData(_ source: CellSource, config: ClassifierConfig) throws {
    guard source.geneNames == config.genes else {
      throw ABRAError.dataMismatch("the data's genes differ from the run's (\(source.geneNames.count) vs \(config.genes.count) names)")
    }
    guard source.batchNames == config.batches else {
      throw ABRAError.dataMismatch("the data's batches (\(source.batchNames.joined(separator: ", "))) differ from the run's (\(config.batches.joined(separator: ", ")))")
    }
    guard source.imageShape == config.imageShape else {
      throw ABRAError.dataMismatch("the data's crops are \(source.imageShape), the run expects \(config.imageShape)")
    }
  }

  /// Asks the loop to checkpoint and return after the current step (safe from a signal handler).
  public func requestStop() { loop.requestStop() }

  /// Runs until `config.steps`, calling `progress` at every logged step and checkpoint.
  /// - Returns: the step reached.
  @discardableResult
  public func train(progress: (ClassifierEvent) -> Void = { _ in }) throws -> Int {
    defer { loop.releaseLock() }
    model.train()
    return try loop.train(progress: progress)
  }

  /// Writes weights, optimiser state and trainer state for the current step.
  @discardableResult
  public func saveCheckpoint() throws -> String { try loop.saveCheckpoint() }

  /// A resumed run must be the same model and data split; only `steps` (and logging cadence)
  /// may change.
  static func checkResumable(_ config: ClassifierConfig, run: RunFolder) throws {
    let stored = try ClassifierConfig.read(run: run)
    var a = stored
    let b = config
    (a.steps, a.checkpointEvery, a.logEvery) = (b.steps, b.checkpointEvery, b.logEvery)
    guard a == b else {
      let mine = (try? JSONSerialization.jsonObject(with: b.jsonData()) as? [String: Any]) ?? [:]
      let theirs = (try? JSONSerialization.jsonObject(with: a.jsonData()) as? [String: Any]) ?? [:]
      let differing = Set(mine.keys).union(theirs.keys).filter { k in
        String(describing: mine[k] ?? "none") != String(describing: theirs[k] ?? "none")
      }.sorted()
      throw ABRAError.invalidRun(path: run.configPath, reason: "cannot resume: the configuration differs in \(differing.joined(separator: ", "))")
    }
  }

}

/// The classifier, its optimisers and its training step, as ``TrainingLoop`` drives them:
/// what ``ClassifierTrainer`` trains.
///
/// Each step draws a mini-batch from the sampler, which must be plate-consistent (all cells from
/// one batch, Eq. 3, or with `plate_groups` G each of its G consecutive groups; unless `sampler`
/// is `class_balanced`) and contain no held-out or validation cell; anything else stops training
/// with ``ABRAError/invalidMiniBatch(step:reason:)``. A non-finite loss stops with
/// ``ABRAError/diverged(step:loss:value:)`` before anything is written. The learning rate of each
/// step follows the configuration's schedule; every `validate_every` steps the model, in
/// evaluation mode, classifies a fixed subset of the validation cells (`val_acc`, NaN in the rows
/// of other steps, so that a resumed run logs what an uninterrupted one does).
public final class ClassifierIteration: TrainingTask {
  public let config: ClassifierConfig
  public let model: CellClassifier
  /// Adam over every parameter but K.
  public let optimizer: Adam
  /// Maximising Adam over K (ABRA with `abra_ascent` = `adam`).
  public let ascentOptimizer: Adam?
  let source: CellSource
  let input: ClassifierInput
  let heldOut: Set<Int>
  let minMax: ABRAMinMaxStep?
  /// The training, validation and held-out cells.
  public let split: ClassifierSplit
  let validationCells: Set<Int>
  /// The validation cells scored while training.
  let validationLog: [Int]

  init(config: ClassifierConfig, source: CellSource, heldOut: Set<Int>, split: ClassifierSplit, rng: inout RandomGenerator) {
    self.config = config
    self.source = source
    self.heldOut = heldOut
    self.split = split
    validationCells = Set(split.validation)
    validationLog = split.validationSubset(count: config.validationLogCells, seed: config.validationSeed &+ 1)
    // Training and validation cells come from the training batches, whose statistics a
    // `controls` transform holds.
    input = ClassifierInput(config: config)
    model = CellClassifier(config: config, rng: &rng)
    optimizer = Adam(
      parameters: model.descendedParameters(), learningRate: config.lr, betas: (config.betas[0], config.betas[1]), weightDecay: config.weightDecay)
    if config.method == .abra, config.abraAscent == .adam, let layer = model.abra {
      ascentOptimizer = Adam(parameters: layer.namedParameters(prefix: "abra"), learningRate: config.abraStepSize, maximize: true)
    } else {
      ascentOptimizer = nil
    }
    if config.method == .abra {
      minMax = ABRAMinMaxStep(objective: config.abraObjective, stepSize: config.abraStepSize, ascent: ascentOptimizer.map { .adam($0) } ?? .gradient)
    } else {
      minMax = nil
    }
  }

  public func step(_ number: Int, sampler: TrainingSampler, rng: inout RandomGenerator) throws -> (items: Int, losses: ClassifierLosses) {
    let cells = sampler.next()
    try checkMiniBatch(cells, step: number)
    let x = try input.images(source, cells: cells, augment: config.augment, rng: &rng)
    let genes = cells.map { source.geneOfCell[$0] }
    var (loss, losses) = model.trainingLoss(
      images: x, genes: genes, minMax: minMax, advStyleStepSize: config.advstyleStepSize, labelSmoothing: config.labelSmoothing, rng: &rng)
    if let (name, value) = losses.firstNonFinite { throw ABRAError.diverged(step: number, loss: name, value: value) }
    accumulateGradients(of: loss, into: optimizer.groups.flatMap { $0.parameters.map(\.1) })
    let rate = config.learningRate(atStep: number)
    for g in optimizer.groups.indices { optimizer.groups[g].learningRate = rate }
    optimizer.step()
    losses.lr = rate
    if logsValidation { losses.validationAccuracy = number % config.validateEvery == 0 ? try validationAccuracy() : .nan }
    return (cells.count, losses)
  }

  /// Whether `val_acc` is measured and logged.
  var logsValidation: Bool { config.validateEvery > 0 && !validationLog.isEmpty }

  /// Accuracy on ``validationLog`` in evaluation mode (running BatchNorm statistics, no
  /// perturbation); the model returns to training mode.
  func validationAccuracy() throws -> Float {
    model.eval()
    defer { model.train() }
    var hits = 0
    var unused = RandomGenerator(seed: 0)
    for start in stride(from: 0, to: validationLog.count, by: 256) {
      let cells = Array(validationLog[start..<min(start + 256, validationLog.count)])
      let x = try input.images(source, cells: cells, augment: false, rng: &unused)
      let predicted = argmaxRows(withoutGradient { model.logits(x) })
      hits += zip(predicted, cells).filter { $0 == source.geneOfCell[$1] }.count
    }
    return Float(hits) / Float(max(validationLog.count, 1))
  }

  /// Rejects mini-batches the methods cannot use.
  func checkMiniBatch(_ cells: [Int], step s: Int) throws {
    guard cells.count >= 2 else { throw ABRAError.invalidMiniBatch(step: s, reason: "the sampler drew \(cells.count) cell\(cells.count == 1 ? "" : "s"); batch statistics need at least two") }
    if let bad = cells.first(where: { $0 < 0 || $0 >= source.cellCount }) {
      throw ABRAError.invalidMiniBatch(step: s, reason: "cell index \(bad) outside 0..<\(source.cellCount)")
    }
    let batches = Set(cells.map { source.batchOfCell[$0] })
    if let b = batches.first(where: { heldOut.contains($0) }) {
      throw ABRAError.invalidMiniBatch(step: s, reason: "the sampler drew cells of held-out batch '\(source.batchNames[b])'")
    }
    if let v = cells.first(where: { validationCells.contains($0) }) {
      throw ABRAError.invalidMiniBatch(step: s, reason: "the sampler drew validation cell \(v)")
    }
    guard config.sampler == .plate else { return }
    // Each of the `plate_groups` consecutive groups from one batch (Eq. 3).
    guard cells.count % config.plateGroups == 0 else {
      throw ABRAError.invalidMiniBatch(step: s, reason: "\(cells.count) cells do not split into \(config.plateGroups) plate groups")
    }
    let groupSize = cells.count / config.plateGroups
    for start in stride(from: 0, to: cells.count, by: groupSize) {
      let group = Set(cells[start..<start + groupSize].map { source.batchOfCell[$0] })
      guard group.count == 1 else {
        let names = group.sorted().map { source.batchNames[$0] }.joined(separator: ", ")
        throw ABRAError.invalidMiniBatch(step: s, reason: "cells come from several batches (\(names)); mini-batches must be plate-consistent")
      }
    }
  }

  // MARK: Log and checkpoints

  /// `log.tsv`: the losses of ``ClassifierLosses``, then `lr` for a scheduled run and `val_acc`
  /// when validation accuracy is measured (older runs keep their columns).
  public var logColumns: [String] {
    ClassifierLosses().fields.map(\.0) + (logsLearningRate ? ["lr"] : []) + (logsValidation ? ["val_acc"] : [])
  }

  public func logValues(_ losses: ClassifierLosses) -> [Float] {
    losses.fields.map(\.1) + (logsLearningRate ? [losses.lr] : []) + (logsValidation ? [losses.validationAccuracy ?? .nan] : [])
  }

  /// Whether the learning rate changes over the run (and is logged).
  var logsLearningRate: Bool { config.lrSchedule != .constant || config.warmupSteps > 0 }

  public var checkpointMetadata: [String: String] { ["format": ClassifierConfig.formatName, "method": config.method.rawValue] }

  /// `weights.safetensors` (parameters and BatchNorm buffers) and `optimizer.safetensors`.
  public func checkpointTensors() -> [(file: String, tensors: [String: Tensor])] {
    var optState = optimizer.state()
    if let a = ascentOptimizer { optState.merge(a.state()) { x, _ in x } }
    return [("weights.safetensors", model.stateDict()), ("optimizer.safetensors", optState)]
  }

  public func restore(checkpoint dir: String) throws {
    let weights = try SafeTensors.read("\(dir)/weights.safetensors").tensors
    do {
      try model.load(weights)
    } catch let e as StateDictError {
      throw ABRAError.invalidRun(path: "\(dir)/weights.safetensors", reason: e.description)
    }
    let opt = try SafeTensors.read("\(dir)/optimizer.safetensors").tensors
    try optimizer.load(state: opt)
    try ascentOptimizer?.load(state: opt)
  }
}
