import Training
import GrapeSupport
import ArgumentParser
import Foundation
import Evaluation
import GRAPE
import OPSData
import TensorCore

/// `grape export`: the gene × d matrix of a trained model.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the gene × d embedding of a trained run (HDF5, TSV or AnnData .h5ad, chosen by the extension).")

  @Option(name: .customLong("run"), help: "The run folder.")
  var runPath: String

  @Option(help: "Output file: .h5, .tsv, .csv or .h5ad.")
  var out: String

  @Option(help: "embedding: rows of the learned gene embedding M; style-mean: per-gene means of style codes over --data.")
  var source: EmbeddingSource = .embedding

  @Option(help: "The cell store to encode (needed with --source style-mean).")
  var data: String?

  @Option(help: "With --source style-mean: none, or controls (each batch's codes standardised by its control cells before the per-gene means).")
  var normalize: ProfileNormalization = .none

  @Flag(help: "With --source style-mean: align the cells' codes over batches with Harmony (on their principal components, after --normalize) before the per-gene means, as grape profile --harmony.")
  var harmony = false

  @Option(name: .customLong("harmony-components"), help: "With --harmony: principal components Harmony works on (capped at the style dimension).")
  var harmonyComponents = 50

  @Option(help: "The checkpoint of this step instead of the newest one.")
  var checkpoint: Int?

  @Flag(help: "Use the trained weights instead of their exponential moving average.")
  var noEma = false

  @Option(help: "A complexes table (complex_id, complex_name, gene) whose complexes an .h5ad file records per gene (obs complex_id, complex_name); a simulated --data store's own truth is used without it.")
  var complexes: String?

  @Option(help: "The control gene (obs is_control in an .h5ad file); by default the --data store's, else a gene named nontargeting.")
  var control: String?

  @OptionGroup var seeding: SeedOption

  @OptionGroup var overwrite: ForceOption

  func validate() throws {
    if harmony { guard source == .styleMean else { throw ValidationError("--harmony applies to --source style-mean only") } }
    guard harmonyComponents >= 1 else { throw ValidationError("--harmony-components must be at least 1, got \(harmonyComponents)") }
    if let checkpoint { guard checkpoint >= 0 else { throw ValidationError("--checkpoint must be ≥ 0, got \(checkpoint)") } }
    if normalize != .none { guard source == .styleMean else { throw ValidationError("--normalize applies to --source style-mean only") } }
    guard GeneEmbedding.FileFormat(path: out) != nil else { throw ValidationError("--out \(out): the extension must be .h5, .tsv, .csv or .h5ad") }
    if source == .styleMean { guard data != nil else { throw ValidationError("--source style-mean needs --data FILE.h5") } }
  }

  func run() throws {
    try CLISupport.run {
      let inputs = (data.map { [("--data", $0)] } ?? []) + (complexes.map { [("--complexes", $0)] } ?? [])
      try OutputGuard.check(output: out, flag: "--out", inputs: inputs, force: overwrite.force)
      let table = try complexes.map { try ComplexTable(contentsOf: URL(fileURLWithPath: $0)) }
      let (embedding, annotations) =
        try harmony
        ? harmonizedStyleMeans(complexes: table)
        : GRAPEInference.annotatedGeneEmbedding(
          run: runPath, source: source, data: data, normalization: normalize, step: checkpoint, useEMA: !noEma,
          control: control, complexes: table)
      // Under mpirun every rank holds the result; rank 0 writes it.
      guard ProcessGroup.world.isPrimary else { return }
      try embedding.write(to: out, annotations: annotations)
      print("wrote \(embedding.count) genes × \(embedding.dimension) to \(out)")
    }
  }
}

extension Export {
  /// `--source style-mean --harmony`: every cell of `--data` encoded, standardised per batch by
  /// its control cells (with `--normalize controls`), aligned over batches by Harmony on the
  /// codes' principal components, then averaged per gene: the steps of
  /// `grape encode` followed by `grape profile [--normalize standardize] --harmony`, with the same
  /// result for the same seed.
  func harmonizedStyleMeans(complexes: ComplexTable?) throws -> (GeneEmbedding, EmbeddingAnnotations) {
    guard let data else { throw ValidationError("--source style-mean needs --data FILE.h5") }
    let encoded = try GRAPEInference.annotatedCellCodes(
      run: runPath, data: data, step: checkpoint, useEMA: !noEma, progress: encodingProgress())
    let controlName = control ?? encoded.control
    let profiles = try ProfileInput.profiles(encoded.codes, features: nil, control: controlName, file: data)
    var pipeline = ProfilePipeline()
    pipeline.normalization = normalize == .controls ? .standardize : .none
    pipeline.harmony = Harmony()
    pipeline.harmonyComponents = harmonyComponents
    var rng = RandomGenerator(seed: seeding.seed)
    let result = try pipeline.run(profiles, rng: &rng)
    for line in result.log { note(line) }
    var provenance = encoded.provenance
    provenance.set("normalization", .string(normalize.rawValue))
    provenance.set("steps", .strings(result.steps))
    provenance.set("seed", .int(Int(truncatingIfNeeded: seeding.seed)))
    let e = result.embedding
    let annotations = EmbeddingAnnotations(
      provenance: provenance, controlGene: controlName,
      cellCounts: Dictionary(zip(e.genes, result.cellCounts), uniquingKeysWith: +),
      complexes: try complexes ?? ComplexTable.fromTruth(of: CellStore(path: data)))
    let embedding = try GeneEmbedding(genes: e.genes, values: e.values, dimension: e.dimension, source: "style-mean+harmony")
    return (embedding, annotations)
  }
}

/// `grape encode`: per-cell style codes.
struct Encode: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the style encoder's code of every cell (/styles [N, style_dim]).",
    discussion: "FILE.h5 gets /styles, /obs/gene, /obs/batch (and /obs/plate, /obs/well when the store has them), /genes, /batches; FILE.h5ad an AnnData file with the codes as X and obsm['X_grape'], and gene, batch, plate, well as categorical obs columns.")

  @Option(name: .customLong("run"), help: "The run folder.")
  var runPath: String

  @Option(help: "The cell store to encode.")
  var data: String

  @Option(help: "Output file: .h5 (HDF5) or .h5ad (AnnData).")
  var out: String

  @Option(help: "The checkpoint of this step instead of the newest one.")
  var checkpoint: Int?

  @Flag(help: "Use the trained weights instead of their exponential moving average.")
  var noEma = false

  @OptionGroup var overwrite: ForceOption

  func run() throws {
    try CLISupport.run {
      try OutputGuard.check(output: out, flag: "--out", writes: .hdf5, inputs: [("--data", data)], force: overwrite.force)
      let result = try GRAPEInference.annotatedCellCodes(
        run: runPath, data: data, step: checkpoint, useEMA: !noEma, progress: encodingProgress())
      guard ProcessGroup.world.isPrimary else { return }
      let codes = result.codes
      try codes.write(to: out, fields: result.fields, provenance: result.provenance, controlGene: result.control)
      print("wrote \(codes.count) codes × \(codes.dimension) to \(out)")
    }
  }
}

extension EmbeddingSource: ExpressibleByArgument {}

/// A progress callback for encoding every cell of a store: a line at most every 5 seconds and at
/// the end, from rank 0 only.
func encodingProgress() -> (Int, Int) -> Void {
  var last = 0.0
  return { done, total in
    let now = monotonicSeconds()
    if ProcessGroup.world.isPrimary, now - last > 5 || done == total {
      note("encoded \(done)/\(total) cells\(ProcessGroup.world.isDistributed ? " on rank 0" : "")")
      last = now
    }
  }
}
