import ArgumentParser
import Foundation
import OPSData
import Training

/// `grape inspect`: prints a summary of a cell store, an embedding file, per-cell codes or a run.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "Print a summary of a cell store, an embedding file, per-cell codes or a run folder.")

  @Argument(
    help:
      "A cell store (.h5), an embedding (.h5, .h5ad, .csv, .tsv, .txt; per-cell and per-well files too), per-cell codes (.h5) or a run folder.")
  var file: String

  @Option(name: .customLong("gene-column"), help: ArgumentHelp("The table column or AnnData obs column with the gene names (default: detected, as grape evaluate does).", valueName: "name"))
  var geneColumn: String?

  @Option(help: ArgumentHelp("Describe an AnnData file's obsm/KEY matrix instead of X.", valueName: "key"))
  var obsm: String?

  @Option(help: "Cells sampled for a cell store's per-channel statistics.")
  var sample = 1000

  @Option(
    name: .customLong("time-reads"),
    help:
      "Also time random mini-batch reads of a cell store: batch sizes, comma-separated (e.g. 16,256)."
  )
  var timeReads: String?

  @Option(
    name: .customLong("time-batches"), help: "Mini-batches read per batch size by --time-reads.")
  var timeBatches = 50

  func validate() throws {
    guard sample >= 0 else { throw ValidationError("--sample: \(sample) is negative") }
    if let timeReads {
      let sizes = CLISupport.list(timeReads).map { Int($0) }
      guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ValidationError("--time-reads: '\(timeReads)' is not a list of positive batch sizes")
      }
    }
    guard timeBatches > 0 else {
      throw ValidationError("--time-batches: \(timeBatches) is not positive")
    }
  }

  func run() throws {
    try CLISupport.run {
      if try FileInspector.kind(of: file) == .run {
        print(try RunFolder(path: file).summary())
      } else {
        print(
          try FileInspector.describe(
            file, sampleSize: sample, options: EmbeddingReadOptions(geneColumn: geneColumn, obsm: obsm)))
      }
      if let timeReads {
        let store = try CellStore(path: file)
        for size in CLISupport.list(timeReads).compactMap({ Int($0) }) {
          let timing = try ReadTiming.measure(
            store: store, batchSize: size, batches: timeBatches, seed: 0)
          print(timing.render())
        }
      }
    }
  }
}
