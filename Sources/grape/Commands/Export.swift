import Training
import GrapeSupport
import ArgumentParser
import Foundation
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

  @Option(help: "The checkpoint of this step instead of the newest one.")
  var checkpoint: Int?

  @Flag(help: "Use the trained weights instead of their exponential moving average.")
  var noEma = false

  @OptionGroup var overwrite: ForceOption

  func validate() throws {
    if let checkpoint { guard checkpoint >= 0 else { throw ValidationError("--checkpoint must be ≥ 0, got \(checkpoint)") } }
    if normalize != .none { guard source == .styleMean else { throw ValidationError("--normalize applies to --source style-mean only") } }
    guard GeneEmbedding.FileFormat(path: out) != nil else { throw ValidationError("--out \(out): the extension must be .h5, .tsv, .csv or .h5ad") }
    if source == .styleMean { guard data != nil else { throw ValidationError("--source style-mean needs --data FILE.h5") } }
  }

  func run() throws {
    try CLISupport.run {
      try OutputGuard.check(output: out, flag: "--out", inputs: data.map { [("--data", $0)] } ?? [], force: overwrite.force)
      let embedding = try GRAPEInference.geneEmbedding(
        run: runPath, source: source, data: data, normalization: normalize, step: checkpoint, useEMA: !noEma)
      // Under mpirun every rank holds the result; rank 0 writes it.
      guard ProcessGroup.world.isPrimary else { return }
      try embedding.write(to: out)
      print("wrote \(embedding.count) genes × \(embedding.dimension) to \(out)")
    }
  }
}

/// `grape encode`: per-cell style codes.
struct Encode: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Write the style encoder's code of every cell (/styles [N, style_dim]).")

  @Option(name: .customLong("run"), help: "The run folder.")
  var runPath: String

  @Option(help: "The cell store to encode.")
  var data: String

  @Option(help: "Output HDF5 file.")
  var out: String

  @Option(help: "The checkpoint of this step instead of the newest one.")
  var checkpoint: Int?

  @Flag(help: "Use the trained weights instead of their exponential moving average.")
  var noEma = false

  @OptionGroup var overwrite: ForceOption

  func run() throws {
    try CLISupport.run {
      try OutputGuard.check(output: out, flag: "--out", writes: .hdf5, inputs: [("--data", data)], force: overwrite.force)
      var last = 0.0
      let out = try GRAPEInference.cellCodes(run: runPath, data: data, step: checkpoint, useEMA: !noEma) { done, total in
        let now = monotonicSeconds()
        if ProcessGroup.world.isPrimary, now - last > 5 || done == total {
          note("encoded \(done)/\(total) cells\(ProcessGroup.world.isDistributed ? " on rank 0" : "")")
          last = now
        }
      }
      guard ProcessGroup.world.isPrimary else { return }
      try out.write(to: self.out)
      print("wrote \(out.count) codes × \(out.dimension) to \(self.out)")
    }
  }
}

extension EmbeddingSource: ExpressibleByArgument {}
