import GrapeSupport
import ABRA
import Foundation
import NeuralNet
import Training

/// What `grape train` asks for: a store, a run folder, and either a fresh configuration (a
/// preset, overrides, the seed and ABRA) or the run's own to continue.
public struct GRAPETrainingRequest: Sendable {
  /// The cell store to train on.
  public var data: String
  /// The run folder to create, or to continue with `resume`.
  public var run: String
  /// The preset of a fresh run (nil: `cpu`).
  public var preset: GRAPEPreset?
  /// A JSON file whose fields override the preset (a fresh run only).
  public var configFile: String?
  /// Training iterations (nil: the preset's, or the run's).
  public var steps: Int?
  /// The time budget in minutes (`max_minutes`).
  public var maxMinutes: Double?
  /// Whether ABRA regularises the style encoder (a fresh run only).
  public var abra: Bool
  /// The seed of a fresh run.
  public var seed: UInt64
  /// Continue the newest checkpoint of `run` with its own `config.json`.
  public var resume: Bool
  /// Steps between validations (`validation_every`; 0: off; nil: the preset's, or the run's).
  public var validationEvery: Int?

  /// A request with every field given.
  public init(
    data: String, run: String, preset: GRAPEPreset? = nil, configFile: String? = nil, steps: Int? = nil, maxMinutes: Double? = nil,
    abra: Bool = false, seed: UInt64 = 0, resume: Bool = false, validationEvery: Int? = nil
  ) {
    self.data = data
    self.run = run
    self.preset = preset
    self.configFile = configFile
    self.steps = steps
    self.maxMinutes = maxMinutes
    self.abra = abra
    self.seed = seed
    self.resume = resume
    self.validationEvery = validationEvery
  }
}

extension GRAPETrainer {
  /// The trainer a request describes: the configuration (the run's own with `resume`, else the
  /// preset with the overrides, the store's genes and channels, and the input transform chosen
  /// from the store), ABRA's regulariser when asked for, and the sampler the configuration
  /// names. Nothing is trained yet; a fresh run's `config.json` is written. `validation`, when
  /// given, runs every `validation_every` steps of the resolved configuration.
  ///
  /// - Throws: when the store, the override file or the run cannot be read, or the
  ///   configuration does not fit the store (the message names the file and field).
  public static func prepare(_ r: GRAPETrainingRequest, validation: GRAPEValidation? = nil) throws -> GRAPETrainer {
    let source = try StoreCellSource(path: r.data)
    let folder = RunFolder(path: r.run)
    var cfg: GRAPEConfig
    if r.resume {
      cfg = try folder.readConfig()
    } else {
      cfg = try freshConfiguration(r, source: source)
    }
    if let steps = r.steps { cfg.steps = steps }
    if let maxMinutes = r.maxMinutes { cfg.maxMinutes = maxMinutes }
    if let every = r.validationEvery { cfg.validationEvery = every }
    // ABRA needs plate-consistent mini-batches (every cell of a batch from one plate);
    // `sampler` in the configuration can ask for them without ABRA too (the trainer validates
    // the combination before it writes anything).
    let regularizer = cfg.abra ? try ABRAStyleRegularizer(config: cfg) : nil
    let sampler: TrainingSampler = cfg.platesConsistentBatches
      ? try SamplerBox.plateConsistent(source, batchSize: cfg.batchSize, seed: cfg.seed &+ 1)
      : try SamplerBox.classBalanced(source, batchSize: cfg.batchSize, seed: cfg.seed &+ 1)
    // Data-parallel under mpirun or srun: each rank trains on its share of every mini-batch and
    // the optimisers average the gradients over the ranks.
    let group = ProcessGroup.world
    let reducer = group.isDistributed ? AllreduceGradients(group: group) : nil
    if let reducer { GradientReduction.install(reducer) }
    let trainer = try GRAPETrainer(
      config: cfg, source: source, sampler: sampler, run: folder, regularizer: regularizer, resume: r.resume, group: group,
      validation: validation)
    trainer.gradientReducer = reducer
    return trainer
  }

  /// The configuration of a fresh run: the preset, the `--config` overrides, the seed and ABRA,
  /// the store's genes, channels and crop size, and the input transform of an integer store.
  static func freshConfiguration(_ r: GRAPETrainingRequest, source: StoreCellSource) throws -> GRAPEConfig {
    var cfg = GRAPEConfig.preset(r.preset ?? .cpu)
    if let file = r.configFile {
      guard let patch = FileManager.default.contents(atPath: file) else { throw GRAPEError.invalidConfig("--config \(file): cannot be read") }
      cfg = try cfg.overridden(with: patch, source: file)
    }
    cfg.seed = r.seed
    cfg.abra = r.abra
    // The genes (and their order, M's rows) come from the store; a config may only repeat them.
    guard cfg.genes.isEmpty || cfg.genes == source.geneNames else {
      throw GRAPEError.invalidConfig(
        "--config \(r.configFile ?? ""): 'genes' lists \(cfg.genes.count) genes that are not the \(source.geneNames.count) genes of --data \(r.data) in its order; remove the key (the genes come from the store)")
    }
    cfg.genes = source.geneNames
    cfg.channels = source.channelNames
    cfg.inChannels = source.imageShape[0]
    guard source.imageShape[1] == source.imageShape[2], source.imageShape[1] == cfg.imgSize else {
      throw GRAPEError.dataMismatch(
        "\(r.data): crops are \(source.imageShape[1])×\(source.imageShape[2]) px but preset '\(cfg.preset.rawValue)' expects \(cfg.imgSize)×\(cfg.imgSize); choose a matching preset or set img_size with --config")
    }
    if source.storesFloatPixels {
      cfg.inputTransform = .identity
    } else {
      var rng = RandomGenerator(seed: r.seed ^ 0x5EED)
      cfg.inputTransform = try cfg.inputNormalization.transform(of: source, rng: &rng)
    }
    return cfg
  }
}
