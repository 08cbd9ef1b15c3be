import Foundation
import GrapeSupport
import NeuralNet
import TensorCore
import Training

extension RunFolder {
  /// Reads `config.json`.
  ///
  /// Fields it lacks take GRAPE's defaults (the `cpu` preset's training settings), and keys this
  /// toolkit does not know are skipped, so a configuration written by hand or by other code with
  /// just the contract's fields (sizes, `genes`, `channels`, `abra`) is enough for inference.
  public func readConfig() throws -> GRAPEConfig {
    guard let data = FileManager.default.contents(atPath: configPath) else {
      throw GRAPEError.invalidRun(path: configPath, reason: "missing or unreadable; is \(path) a run folder?")
    }
    return try GRAPEConfig.base.overridden(with: data, source: configPath, ignoringUnknownKeys: true)
  }

  /// Writes `config.json` atomically.
  public func writeConfig(_ c: GRAPEConfig) throws {
    try Folder.create(path)
    try AtomicFile.write(try c.jsonData(), to: configPath)
  }
}

/// The names of the modules whose EMA copies are saved in `weights_ema.safetensors`.
public let averagedModuleNames = ["gene_embedding", "mapping_network", "generator", "style_encoder"]

/// Loads trained networks (M, F, G, E) from a run folder for inference.
///
/// - Parameters:
///   - run: the folder; needs `config.json`, `checkpoints/latest` and the weights it names.
///   - useEMA: read `weights_ema.safetensors` (default) instead of `weights.safetensors`.
///   - step: the checkpoint of that step instead of the newest one (`latest`).
/// - Returns: the configuration and the networks without a discriminator, in evaluation mode.
public func loadTrainedNetworks(run: RunFolder, useEMA: Bool = true, step: Int? = nil) throws -> (GRAPEConfig, GRAPENetworks) {
  let config = try run.readConfig()
  try config.validate()
  let ckpt: String
  if let step {
    ckpt = "\(run.checkpointsPath)/\(RunFolder.checkpointName(step: step))"
    guard FileManager.default.fileExists(atPath: ckpt) else {
      let have = run.checkpointSteps().map(String.init).joined(separator: ", ")
      throw GRAPEError.invalidRun(path: run.path, reason: "has no checkpoint of step \(step) (checkpoints of steps: \(have.isEmpty ? "none" : have))")
    }
  } else {
    guard let latest = try run.latestCheckpoint() else {
      throw GRAPEError.invalidRun(path: run.path, reason: "has no checkpoint (checkpoints/latest is missing)")
    }
    ckpt = latest
  }
  let file = "\(ckpt)/\(useEMA ? "weights_ema" : "weights").safetensors"
  guard FileManager.default.fileExists(atPath: file) else {
    throw GRAPEError.invalidRun(path: file, reason: "missing\(useEMA ? " (use --no-ema to read weights.safetensors)" : "")")
  }
  let contents = try SafeTensors.read(file)
  var rng = RandomGenerator(seed: 0)
  let nets = GRAPENetworks(config: config, withDiscriminator: false, rng: &rng)
  let wanted = contents.tensors.filter { k, _ in averagedModuleNames.contains { k.hasPrefix($0 + ".") } }
  do {
    try nets.load(wanted)
  } catch let e as StateDictError {
    throw GRAPEError.invalidRun(path: file, reason: e.description)
  }
  nets.eval()
  return (config, nets)
}
