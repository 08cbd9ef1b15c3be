import Foundation
import GrapeSupport
import NeuralNet
import TensorCore

/// A model and its optimisers as ``TrainingLoop`` drives them: one step at a time, and the
/// tensors a checkpoint holds. GRAPE's trainer and the perturbation classifier are both one.
public protocol TrainingTask: AnyObject {
  /// What a step reports (logged as a `log.tsv` row, passed on in progress events).
  associatedtype Losses

  /// Runs step `number` (1-based): draws its cells from `sampler` (as many mini-batches as it
  /// needs, so that the sampler's saved state covers them), updates the networks and returns the
  /// losses with the number of cells it counted for throughput. Throws on a non-finite loss
  /// before anything is written.
  func step(_ number: Int, sampler: TrainingSampler, rng: inout RandomGenerator) throws -> (items: Int, losses: Losses)

  /// The value columns of `log.tsv`, after `step` and `time_s`.
  var logColumns: [String] { get }

  /// A step's losses in the order of ``logColumns``.
  func logValues(_ losses: Losses) -> [Float]

  /// The safetensors files of a checkpoint (file name → tensors), besides `state.json`.
  func checkpointTensors() -> [(file: String, tensors: [String: Tensor])]

  /// Metadata written into each safetensors file of a checkpoint (the loop adds `step`).
  var checkpointMetadata: [String: String] { get }

  /// Loads the tensors that ``checkpointTensors()`` wrote into checkpoint folder `dir`.
  func restore(checkpoint dir: String) throws
}

/// What a training loop reports while it runs.
public enum TrainingEvent<Losses> {
  /// A logged step: step number, total steps, items (images, cells) per second, seconds left,
  /// and the step's losses.
  case step(step: Int, total: Int, itemsPerSecond: Double, secondsLeft: Double, losses: Losses)
  /// A checkpoint was written.
  case checkpoint(step: Int, path: String)
  /// The validation of ``TrainingLoop/validation`` ran after step `step` (reported before that
  /// step's `.step` event): its values by column name and the seconds it took (not counted as
  /// training time).
  case validation(step: Int, values: [String: Double], seconds: Double)
}

/// A measurement of the model taken every so many steps while it trains (validation, e.g. the
/// CORUM mAP of the gene embedding): extra columns of `log.tsv`, filled on the steps it runs and
/// NaN (`nan`) on the other rows.
///
/// The measurement must not change training: it reads the task and draws no random numbers from
/// the loop's generator, so a run with and without it reaches the same weights. Its time is not
/// counted as training time (`time_s`, `max_minutes`) nor in the throughput.
public struct TrainingValidation<Task> {
  /// Steps between measurements; the last step of a run is always measured.
  public var every: Int
  /// The `log.tsv` columns it fills, after the task's own.
  public var columns: [String]
  /// Measures the task after step `step`: one value per column (NaN where undefined).
  public var measure: (_ task: Task, _ step: Int) throws -> [Double]

  public init(every: Int, columns: [String], measure: @escaping (_ task: Task, _ step: Int) throws -> [Double]) {
    precondition(every >= 1, "validation every \(every) steps")
    self.every = every
    self.columns = columns
    self.measure = measure
  }

  /// Whether step `step` of a run to `total` is measured.
  public func runs(atStep step: Int, total: Int) -> Bool { step % every == 0 || step == total }
}

/// When a loop logs, checkpoints and stops.
public struct TrainingSchedule: Sendable, Equatable {
  /// The step to train to.
  public var steps: Int
  /// Stop (with a checkpoint) once this many minutes of training have run, counted over
  /// resumes; nil: no limit.
  public var maxMinutes: Double?
  /// Steps between `log.tsv` rows (the last step always logs).
  public var logEvery: Int
  /// Steps between checkpoints (the last step, and a stop, always write one).
  public var checkpointEvery: Int

  public init(steps: Int, maxMinutes: Double? = nil, logEvery: Int, checkpointEvery: Int) {
    self.steps = steps
    self.maxMinutes = maxMinutes
    self.logEvery = logEvery
    self.checkpointEvery = checkpointEvery
  }
}

/// The one checkpointed training loop of the toolkit: it draws nothing and computes nothing
/// itself, but counts steps and time, appends `log.tsv`, writes and restores checkpoints
/// (the task's tensors, then `state.json` with the step, random generator, sampler state and
/// time), and stops on request (Ctrl-C) or when the time budget is spent, always with a
/// checkpoint. A resumed run continues exactly where the uninterrupted one would be.
///
/// Data-parallel (``group`` of several ranks, each running this loop over the same task): rank
/// 0 alone takes the lock and writes the log and checkpoints; the logged losses are the means
/// over the ranks; a stop (Ctrl-C, the time budget) on any rank stops every rank at the same
/// step; and every ``checksumEvery`` steps the ranks compare a checksum of their tensors and
/// stop with an error if they have drifted apart. The run folder must be on a file system that
/// every rank sees (a resumed run reads its checkpoint on every rank).
///
/// ```
/// RUN/log.tsv                          step, time_s, the task's columns
/// RUN/checkpoints/step-XXXXXXXX/       the task's safetensors files and state.json
/// RUN/checkpoints/latest
/// ```
public final class TrainingLoop<Task: TrainingTask> {
  /// The model being trained.
  public let task: Task
  /// The run folder.
  public let run: RunFolder
  /// When to log, checkpoint and stop.
  public var schedule: TrainingSchedule
  /// Steps completed.
  public private(set) var step = 0
  /// Seconds of training so far, over resumes.
  public private(set) var elapsed = 0.0
  let sampler: TrainingSampler
  var rng: RandomGenerator
  private var lock: RunLock?
  /// Set (from a signal handler, say) to make the loop checkpoint and return after the current step.
  public let stopFlag = StopFlag()
  /// The processes training this task together (one, unless launched by mpirun or srun).
  public let group: ProcessGroup
  /// Steps between comparisons of the ranks' tensors (data-parallel runs only).
  public var checksumEvery = 50
  /// The measurement logged beside the losses, if any. Set it before ``start()`` or
  /// ``resume()``: its columns are part of the log's header. A data-parallel run measures on the
  /// primary rank only.
  public var validation: TrainingValidation<Task>?

  /// A loop at step 0; call ``start()`` for a new run or ``resume()`` to continue one.
  public init(
    task: Task, run: RunFolder, sampler: TrainingSampler, rng: RandomGenerator, schedule: TrainingSchedule, group: ProcessGroup = .single
  ) {
    self.task = task
    self.run = run
    self.sampler = sampler
    self.rng = rng
    self.schedule = schedule
    self.group = group
  }

  /// Takes the run folder's lock (``RunLock``) unless this loop holds it: trainers call it
  /// before they write anything, ``train(progress:)`` makes sure it is held. Only the primary
  /// rank of a data-parallel run takes it (the others write nothing).
  public func acquireLock() throws {
    if lock == nil, group.isPrimary { lock = try RunLock(run: run) }
  }

  /// Lets another process (or another loop of this one) write the run folder.
  public func releaseLock() { lock = nil }

  /// `log.tsv` with the task's columns, then those of ``validation``.
  public var log: TrainingLog { TrainingLog(path: run.logPath, valueColumns: task.logColumns + (validation?.columns ?? [])) }

  /// Begins a new run's log (the trainer has written its configuration).
  public func start() throws { if group.isPrimary { try log.start() } }

  /// Restores the newest checkpoint, if there is one.
  /// - Returns: whether one was restored.
  @discardableResult
  public func resume() throws -> Bool {
    guard let dir = try run.latestCheckpoint() else { return false }
    try task.restore(checkpoint: dir)
    let state = try RunState.read(checkpoint: dir)
    guard schedule.steps >= state.step else {
      throw TrainingError.invalidRun(
        path: run.path, reason: "the run is at step \(state.step), past the \(schedule.steps) steps asked for; give more steps (--steps) to train it further")
    }
    step = state.step
    rng = state.rng
    elapsed = state.elapsedSeconds
    try sampler.restore(Data(state.sampler.utf8))
    if group.isPrimary { try log.truncate(after: step) }
    return true
  }

  /// Asks the loop to checkpoint and return after the current step (safe from a signal handler).
  public func requestStop() { stopFlag.set() }

  /// Whether ``requestStop()`` was called.
  public var stopRequested: Bool { stopFlag.isSet }

  private var outOfTime: Bool { schedule.maxMinutes.map { elapsed >= $0 * 60 } ?? false }

  /// Runs to `schedule.steps` (or until the time budget is spent, or a stop is requested),
  /// calling `progress` at every logged step and checkpoint.
  /// - Returns: the step reached.
  @discardableResult
  public func train(progress: (TrainingEvent<Task.Losses>) -> Void = { _ in }) throws -> Int {
    try acquireLock()
    let total = schedule.steps
    var window = ThroughputWindow()
    if group.isDistributed { try checkRanksAgree() }
    while step < total, !group.any(outOfTime) {
      let t0 = monotonicSeconds()
      let (items, losses) = try task.step(step + 1, sampler: sampler, rng: &rng)
      step += 1
      elapsed += monotonicSeconds() - t0
      window.add(items)
      var measured: [Double] = []
      if let validation, validation.runs(atStep: step, total: total) {
        let (values, seconds) = try validate(validation)
        window.exclude(seconds)
        measured = values
        if group.isPrimary {
          progress(.validation(step: step, values: Dictionary(zip(validation.columns, values)) { a, _ in a }, seconds: seconds))
        }
      }
      // A measured step is always logged (its row holds the measurement).
      if step % schedule.logEvery == 0 || step == total || !measured.isEmpty {
        let rate = window.rate()
        try appendLog(task.logValues(losses), validation: measured)
        let left = Double(total - step) * Double(items) / max(rate, 1e-9)
        progress(.step(step: step, total: total, itemsPerSecond: rate, secondsLeft: left, losses: losses))
      }
      if group.isDistributed, step % checksumEvery == 0 { try checkRanksAgree() }
      let stopping = group.any(stopFlag.isSet || outOfTime)
      if step % schedule.checkpointEvery == 0 || step == total || stopping {
        progress(.checkpoint(step: step, path: try saveCheckpoint()))
      }
      if stopping { break }
    }
    return step
  }

  /// Runs the validation on the primary rank (the others wait for nothing and get NaN).
  /// - Returns: its values (NaN where a value is missing) and the seconds it took.
  private func validate(_ validation: TrainingValidation<Task>) throws -> (values: [Double], seconds: Double) {
    let t0 = monotonicSeconds()
    var values = [Double](repeating: .nan, count: validation.columns.count)
    if group.isPrimary {
      let got = try validation.measure(task, step)
      for (i, v) in got.prefix(values.count).enumerated() { values[i] = v }
    }
    return (values, monotonicSeconds() - t0)
  }

  /// Appends a `log.tsv` row (the primary rank), with each loss the mean over the ranks, then
  /// the validation's columns (its values, or NaN on a row it did not measure).
  private func appendLog(_ values: [Float], validation measured: [Double] = []) throws {
    var mean = values.map(Double.init)
    group.allreduceSum(&mean)
    guard group.isPrimary else { return }
    let width = validation?.columns.count ?? 0
    let extra = (0..<width).map { $0 < measured.count ? Float(measured[$0]) : .nan }
    try log.append(step: step, elapsedSeconds: elapsed, values: mean.map { Float($0 / Double(group.size)) } + extra)
  }

  /// Compares a checksum of every rank's tensors (weights, averages, optimiser state): ranks
  /// that train one model hold the same values, bit for bit.
  ///
  /// - Throws: ``TrainingError/ranksDiverged(step:)`` on every rank when they differ.
  public func checkRanksAgree() throws {
    var sums: [Double] = []
    for (_, tensors) in task.checkpointTensors() {
      for name in tensors.keys.sorted() {
        guard let t = tensors[name] else { continue }
        var total = 0.0
        for v in t.scalars { total += Double(v) }
        sums.append(total)
      }
    }
    let (high, low) = group.extremes(sums)
    guard zip(high, low).allSatisfy({ ($0.isNaN && $1.isNaN) || $0 == $1 }) else {
      throw TrainingError.ranksDiverged(step: step)
    }
  }

  /// Writes the task's tensors and the loop's state for the current step (the primary rank of
  /// a data-parallel run; the others return the same path and write nothing).
  @discardableResult
  public func saveCheckpoint() throws -> String {
    guard group.isPrimary else { return "\(run.checkpointsPath)/\(RunFolder.checkpointName(step: step))" }
    let files = task.checkpointTensors()
    var meta = task.checkpointMetadata
    meta["step"] = String(step)
    let state = try RunState(step: step, rng: rng, sampler: String(decoding: try sampler.state(), as: UTF8.self), elapsedSeconds: elapsed).jsonData()
    return try run.writeCheckpoint(step: step) { dir in
      for (file, tensors) in files { try SafeTensors.write(tensors, metadata: meta, to: "\(dir)/\(file)") }
      try AtomicFile.write(state, to: "\(dir)/state.json")
    }
  }
}
