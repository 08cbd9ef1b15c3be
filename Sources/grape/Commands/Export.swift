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

  @Option(help: "Output file: .h5, .tsv or .h5ad.")
  var out: String

  @Option(help: "embedding: rows of the learned gene embedding M; style-mean: per-gene means of style codes over --data.")
  var source: String = "embedding"

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
    if normalize != .none { guard source == "style-mean" else { throw ValidationError("--normalize applies to --source style-mean only") } }
    guard ["embedding", "style-mean"].contains(source) else { throw ValidationError("--source must be embedding or style-mean, got '\(source)'") }
    guard GeneEmbedding.FileFormat(path: out) != nil else { throw ValidationError("--out \(out): the extension must be .h5, .tsv or .h5ad") }
    if source == "style-mean" { guard data != nil else { throw ValidationError("--source style-mean needs --data FILE.h5") } }
  }

  func run() throws {
    try CLISupport.run {
      try OutputGuard.check(output: out, flag: "--out", inputs: data.map { [("--data", $0)] } ?? [], force: overwrite.force)
      let (config, nets) = try loadTrainedNetworks(run: RunFolder(path: runPath), useEMA: !noEma, step: checkpoint)
      let embedding: GeneEmbedding
      switch source {
      case "style-mean":
        guard let data else { return }
        let cells = try StoreCellSource(path: data)
        try checkShape(config: config, cells: cells, data: data)
        let (means, counts) = try GRAPEInference.styleMeans(
          nets, source: cells, transform: config.inputTransform ?? .identity, normalization: normalize)
        let keep = counts.indices.filter { counts[$0] > 0 }
        let rows = means.indexSelect(keep)
        embedding = try GeneEmbedding(genes: keep.map { cells.geneNames[$0] }, values: rows.scalars, dimension: rows.shape[1], source: "grape style-mean \(runPath)\(normalize == .controls ? " (standardised per batch by the controls)" : "")")
      default:
        let m = GRAPEInference.embedding(nets)
        if m.scalars.contains(where: { !$0.isFinite }) {
          throw GRAPEError.invalidRun(
            path: runPath, reason: "the gene embedding of checkpoint \(checkpoint.map { "step \($0)" } ?? "latest") holds NaN or infinite values; export an earlier checkpoint (--checkpoint)")
        }
        embedding = try GeneEmbedding(genes: config.genes, values: m.scalars, dimension: m.shape[1], source: "grape embedding \(runPath)\(noEma ? " (no EMA)" : "")")
      }
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
      let (config, nets) = try loadTrainedNetworks(run: RunFolder(path: runPath), useEMA: !noEma, step: checkpoint)
      let cells = try StoreCellSource(path: data)
      try checkShape(config: config, cells: cells, data: data)
      var last = 0.0
      let codes = try GRAPEInference.encode(nets, source: cells, transform: config.inputTransform ?? .identity) { done in
        let now = monotonicSeconds()
        if now - last > 5 || done == cells.cellCount {
          note("encoded \(done)/\(cells.cellCount) cells")
          last = now
        }
      }
      let out = try CellCodes(
        name: "styles", values: codes.scalars, dimension: codes.shape[1], geneOfCell: cells.store.geneOfCell,
        batchOfCell: cells.store.batchOfCell, genes: cells.geneNames, batches: cells.batchNames)
      try out.write(to: self.out)
      print("wrote \(cells.cellCount) codes × \(codes.shape[1]) to \(self.out)")
    }
  }
}

/// Checks that a store's crops fit a trained model.
func checkShape(config: GRAPEConfig, cells: StoreCellSource, data: String) throws {
  let expected = [config.inChannels, config.imgSize, config.imgSize]
  guard cells.imageShape == expected else {
    throw GRAPEError.dataMismatch("\(data): crops are \(cells.imageShape) (channels, height, width) but the model was trained on \(expected)")
  }
}
