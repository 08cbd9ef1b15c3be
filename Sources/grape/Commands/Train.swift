import Training
import GrapeSupport
import ABRA
import ArgumentParser
import Dispatch
import Evaluation
import Foundation
import GRAPE
import OPSData
import TensorCore

/// `grape train`: trains a GRAPE model on a cell store.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a GRAPE model (StarGAN-v2 generator, multi-head discriminator, style encoder, gene embedding).",
    discussion: """
      Writes RUN/config.json, RUN/log.tsv, RUN/checkpoints/step-NNNNNNNN/ and RUN/checkpoints/latest. \
      Ctrl-C writes a checkpoint and exits; --resume continues from the newest checkpoint. \
      Every --validation-every steps (validation_every; the cpu presets: 100, tiny: off) the CORUM mAP \
      of the EMA gene embedding (the rows of M, what grape export writes) is logged as val_map in \
      log.tsv (nan on the other rows) and shown in the progress line; the complexes come from \
      --complexes, else from a simulated store's /truth.
      """)

  @Option(help: "The cell store (HDF5) to train on.")
  var data: String

  @Option(name: .customLong("run"), help: "The run folder to create (or continue with --resume).")
  var runPath: String

  @Option(help: "Network and training preset: \(GRAPEPreset.allCases.map(\.rawValue).joined(separator: ", ")) (default cpu).")
  var preset: GRAPEPreset?

  @Option(help: "A JSON file whose fields override the preset (e.g. {\"lr\": 0.0002}).")
  var config: String?

  @Option(help: "Training iterations (default: the preset's; 0 keeps the initial weights as an untrained baseline).")
  var steps: Int?

  @Option(help: "Stop with a checkpoint after this many minutes of training, counted over resumes (sets max_minutes).")
  var maxMinutes: Double?

  @Flag(help: "Train the style encoder against adversarial batch-statistic perturbations (ABRA).")
  var abra = false

  @Flag(help: "Continue from the newest checkpoint in --run.")
  var resume = false

  @Option(help: ArgumentHelp("Steps between validations: the CORUM mAP of the EMA gene embedding, logged as val_map (sets validation_every; 0: off; default: the preset's, 100 for cpu and cpu64, off for tiny; with --resume, the run's).", valueName: "n"))
  var validationEvery: Int?

  @Option(help: ArgumentHelp("Complexes table (TSV: complex_id, complex_name, gene) for the validation mAP; default: a simulated store's /truth (a store without it is not validated).", valueName: "tsv"))
  var complexes: String?

  @OptionGroup var seeding: SeedOption
  var seed: UInt64 { seeding.seed }

  func validate() throws {
    if let steps { guard steps >= 0 else { throw ValidationError("--steps must be ≥ 0, got \(steps)") } }
    if let validationEvery { guard validationEvery >= 0 else { throw ValidationError("--validation-every must be ≥ 0 (0: off), got \(validationEvery)") } }
    if let complexes { guard FileManager.default.fileExists(atPath: complexes) else { throw ValidationError("--complexes \(complexes): no such file") } }
    if let maxMinutes { guard maxMinutes > 0, maxMinutes <= 525_600 else { throw ValidationError("--max-minutes must lie in (0, 525600], got \(maxMinutes)") } }
    guard FileManager.default.fileExists(atPath: data) else { throw ValidationError("--data \(data): no such file") }
    if let config {
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: config, isDirectory: &isFolder) else { throw ValidationError("--config \(config): no such file") }
      guard !isFolder.boolValue else { throw ValidationError("--config \(config): is a folder, not a JSON file") }
      guard FileManager.default.isReadableFile(atPath: config) else { throw ValidationError("--config \(config): cannot be read") }
    }
    if resume {
      let ignored = [config.map { _ in "--config" }, preset.map { _ in "--preset" }, abra ? "--abra" : nil].compactMap { $0 }
      guard ignored.isEmpty else {
        throw ValidationError("--resume continues the run with its own config.json; \(ignored.joined(separator: " and ")) cannot change it (only --steps and --max-minutes can)")
      }
    }
    try CLISupport.refuseTrainedRun(runPath, resume: resume)
  }

  func run() throws {
    try CLISupport.run { try CLISupport.removingFailedRun(runPath, train) }
  }

  private func train() throws {
    let (validation, skipped) = try validationOfTraining()
    let trainer = try GRAPETrainer.prepare(
      GRAPETrainingRequest(
        data: data, run: runPath, preset: preset, configFile: config, steps: steps, maxMinutes: maxMinutes, abra: abra, seed: seed,
        resume: resume, validationEvery: validationEvery),
      validation: validation)
    let cfg = trainer.config
    // Data-parallel (mpirun, srun): rank 0 alone prints.
    let primary = trainer.loop.group.isPrimary
    let ranks = trainer.loop.group.size
    // Ctrl-C: finish the current step, write a checkpoint, exit.
    let interrupt = CLISupport.stopOnInterrupt(trainer.loop.stopFlag)
    let display = TrainingProgress<StepLosses>(unit: "img/s", rateDigits: 1) { losses in
      losses.fields.filter { ["d_total", "r1", GRAPEStep.discriminatorClassificationName, GRAPEStep.styleAlignmentName, "g_adv", "g_cyc", "g_sty"].contains($0.0) || $0.0.hasPrefix("abra") }
        .map { "\($0.0) \(String(format: "%.3f", $0.1))" }.joined(separator: "  ")
    }
    if primary {
      let shared = ranks > 1 ? " (\(cfg.batchSize / ranks) on each of \(ranks) ranks)" : ""
      note("training \(cfg.preset.rawValue) on \(trainer.cellCount) cells, \(cfg.genes.count) genes, \(cfg.steps) steps, batch \(cfg.batchSize)\(shared) → \(runPath)")
      if let every = cfg.validationInterval {
        if trainer.validates {
          note("validating every \(every) steps: val_map, the CORUM mAP of the EMA gene embedding")
        } else if let skipped {
          note("validation skipped: \(skipped)")
        }
      } else if complexes != nil {
        note("--complexes \(complexes ?? ""): not used, validation is off (validation_every 0); pass --validation-every N")
      }
    }
    let reached = try trainer.train { if primary { display.show($0) } }
    if primary { display.finish() }
    interrupt.cancel()
    if primary, let last = display.lastValidation, let map = last.values[GRAPEValidation.mapColumn] {
      note(
        String(
          format: "val_map %.4f at step %d; %d validations took %.2f s (%.3f s each, not counted as training time)", map, last.step,
          display.validations, display.validationSeconds, display.validationSeconds / Double(max(display.validations, 1))))
    }
    let limited = reached < cfg.steps && cfg.maxMinutes != nil && !trainer.stopRequested
    if primary { print("trained to step \(reached)\(limited ? " (the \(cfg.maxMinutes ?? 0)-minute limit)" : ""); run folder: \(runPath)") }
    if primary, let r = trainer.gradientReducer, r.calls > 0 {
      let perCall = Double(r.bytes) / Double(r.calls) / 1e6
      note(String(format: "allreduce on rank 0: %.2f s in %d calls (%.1f ms and %.2f MB each)", r.seconds, r.calls, r.seconds / Double(r.calls) * 1e3, perCall))
    }
    if trainer.stopRequested { throw CLISupport.interrupted }
  }

  /// The validation of this run: the CORUM mAP of the EMA gene embedding against `--complexes`,
  /// else against the store's `/truth`; nil with the reason when there are no complexes or no
  /// two genes of the store share one.
  private func validationOfTraining() throws -> (GRAPEValidation?, skipped: String?) {
    let store = try CellStore(path: data)
    let table: ComplexTable
    let input: String
    if let complexes {
      table = try ComplexTable(contentsOf: URL(fileURLWithPath: complexes))
      input = "--complexes \(complexes)"
    } else if let truth = try ComplexTable.fromTruth(of: store) {
      table = truth
      input = "\(data) /truth"
    } else {
      return (nil, "no complexes (pass --complexes TSV; only a simulated store has them under /truth)")
    }
    let scorer = try RetrievalScorer(genes: store.genes, complexes: try CLISupport.complexAssignment(table), input: input)
    guard scorer.hasHits else {
      return (nil, "no two genes of \(data) share a complex of \(input), so mAP is undefined")
    }
    let validation = GRAPEValidation(columns: [GRAPEValidation.mapColumn]) { iteration, _ in
      let m = GRAPEInference.embedding(iteration.average)
      guard iteration.config.genes == scorer.genes else { return [.nan] }
      return [scorer.meanAveragePrecision(values: m.scalars, dimension: m.shape[1]) ?? .nan]
    }
    return (validation, nil)
  }
}

extension GRAPEValidation {
  /// The `log.tsv` column of the validation mAP.
  static let mapColumn = "val_map"
}
