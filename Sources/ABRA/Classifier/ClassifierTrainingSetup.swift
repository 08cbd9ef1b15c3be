import Foundation
import Training

/// What `grape classify train` asks for: a store, a run folder, and either a fresh
/// configuration (method, held-out batches, overrides, seed) or the run's own to continue.
public struct ClassifierTrainingRequest: Sendable {
  /// The cell store to train on.
  public var data: String
  /// The run folder to create, or to continue with `resume`.
  public var run: String
  /// The training method of a fresh run.
  public var method: ClassifierMethod
  /// Batches kept out of training (nil: the store's last batch).
  public var holdoutBatches: [String]?
  /// The batches trained on (nil or empty: every batch not held out).
  public var trainBatches: [String]?
  /// A JSON file whose fields override the defaults (a fresh run only).
  public var configFile: String?
  /// Training iterations, mini-batch size and learning rate (nil: the configuration's).
  public var steps: Int?
  public var batchSize: Int?
  public var lr: Float?
  /// Validation share, schedule, warm-up, label smoothing and input normalisation of a fresh
  /// run (nil: the configuration's).
  public var validationFraction: Double?
  public var lrSchedule: LearningRateSchedule?
  public var warmupSteps: Int?
  public var labelSmoothing: Float?
  public var inputNormalization: InputNormalization?
  /// How mini-batches are drawn (nil: the configuration's, `plate`).
  public var sampler: SamplerKind?
  /// The seed of a fresh run.
  public var seed: UInt64
  /// Continue the newest checkpoint of `run` with its own `config.json`.
  public var resume: Bool

  /// A request with every field given.
  public init(
    data: String, run: String, method: ClassifierMethod, holdoutBatches: [String]? = nil, trainBatches: [String]? = nil,
    configFile: String? = nil, steps: Int? = nil,
    batchSize: Int? = nil, lr: Float? = nil, validationFraction: Double? = nil, lrSchedule: LearningRateSchedule? = nil,
    warmupSteps: Int? = nil, labelSmoothing: Float? = nil, inputNormalization: InputNormalization? = nil, sampler: SamplerKind? = nil, seed: UInt64 = 0,
    resume: Bool = false
  ) {
    self.data = data
    self.run = run
    self.method = method
    self.holdoutBatches = holdoutBatches
    self.trainBatches = trainBatches
    self.configFile = configFile
    self.steps = steps
    self.batchSize = batchSize
    self.lr = lr
    self.validationFraction = validationFraction
    self.lrSchedule = lrSchedule
    self.warmupSteps = warmupSteps
    self.labelSmoothing = labelSmoothing
    self.inputNormalization = inputNormalization
    self.sampler = sampler
    self.seed = seed
    self.resume = resume
  }
}

extension ClassifierTrainer {
  /// The trainer a request describes: the configuration (the run's own with `resume`, else the
  /// defaults for the store with the overrides) and a plate-consistent sampler over the training
  /// batches. Nothing is trained yet; a fresh run's `config.json` is written.
  ///
  /// - Throws: when the store, the override file or the run cannot be read, the configuration
  ///   does not fit the store (the message names the file and field), or the command was
  ///   started as several MPI ranks.
  public static func prepare(_ r: ClassifierTrainingRequest) throws -> ClassifierTrainer {
    guard !ProcessGroup.world.isDistributed else {
      throw ABRAError.invalidConfig("grape classify train runs in one process; start it without mpirun or srun (only grape train is data-parallel)")
    }
    let source = try StoreCellSource(path: r.data)
    let folder = RunFolder(path: r.run)
    var cfg: ClassifierConfig
    if r.resume {
      cfg = try ClassifierConfig.read(run: folder)
    } else {
      cfg = try ClassifierConfig(method: r.method, source: source, holdoutBatches: r.holdoutBatches ?? [source.batchNames.last ?? ""])
      if let file = r.configFile {
        guard let patch = FileManager.default.contents(atPath: file) else { throw ABRAError.invalidConfig("--config \(file): cannot read") }
        cfg = try cfg.overridden(with: patch, source: file)
      }
      if let t = r.trainBatches { cfg.trainBatches = t }
      if let steps = r.steps { cfg.steps = steps }
      if let batchSize = r.batchSize { cfg.batchSize = batchSize }
      if let lr = r.lr { cfg.lr = lr }
      if let f = r.validationFraction { cfg.validationFraction = f }
      if let s = r.lrSchedule { cfg.lrSchedule = s }
      if let w = r.warmupSteps { cfg.warmupSteps = w }
      if let e = r.labelSmoothing { cfg.labelSmoothing = e }
      if let n = r.inputNormalization { cfg.inputNormalization = n }
      if let k = r.sampler { cfg.sampler = k }
      cfg.seed = r.seed
      try cfg.validate()
      try cfg.chooseInputTransform(source: source)
    }
    let excluded = excludedBatches(source: source, holdoutBatches: cfg.holdoutBatches, trainBatches: cfg.trainBatches)
    let split = try ClassifierSplit(config: cfg, source: source)
    let sampler: TrainingSampler
    switch cfg.sampler {
    case .plate:
      let plates = try SamplerBox.plateConsistent(
        source, batchSize: cfg.batchSize / cfg.plateGroups, seed: cfg.seed &+ 1, excluded: excluded, excludedCells: split.validation)
      sampler = cfg.plateGroups > 1 ? GroupedSampler(plates, groups: cfg.plateGroups) : plates
    case .classBalanced:
      sampler = try SamplerBox.classBalanced(
        source, batchSize: cfg.batchSize, seed: cfg.seed &+ 1, excluded: excluded, excludedCells: split.validation)
    }
    return try ClassifierTrainer(config: cfg, source: source, sampler: sampler, run: folder, resume: r.resume)
  }
}
