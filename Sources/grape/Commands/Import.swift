import GrapeSupport
import ArgumentParser
import Foundation
import OPSData

/// `grape import`: builds a cell store from TIFF images and a per-cell table.
struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Build a cell store from TIFF images and a per-cell table.",
    discussion: """
      The table (CSV; .tsv is tab-separated) has one row per cell: an `image` column with a TIFF path \
      relative to --images, a gene column and batch columns. Without `y`,`x` columns each image is the \
      crop itself; with them (pixel centroid, row then column) crops of --crop pixels are cut around the \
      centroid and cells closer than half a crop to the border are skipped and counted. Optional \
      `plate`, `well` and `tile` columns are kept as provenance.

      Channels are numbered in file order (page 0's samples, then page 1's, ...) and named ch0, ch1, \
      ... unless --channel-names names them; --channels picks and orders them by name or 0-based index.
      """)

  @Option(help: "Per-cell table (CSV, or TSV by extension).")
  var table: String

  @Option(help: "Folder that the table's image paths are relative to.")
  var images: String

  @Option(help: "Output cell store (.h5).")
  var out: String

  @Option(
    help: "Crop size in pixels (default: 96 around centroids; the files' size for crop files).")
  var crop: Int?

  @Option(
    help: "Channels to keep, in order: names or 0-based indices, comma-separated (default: all).")
  var channels: String?

  @Option(
    name: .customLong("channel-names"),
    help: "Names of the file's channels in file order, comma-separated (default: ch0,ch1,...).")
  var channelNames: String?

  @Option(name: .customLong("gene-column"), help: "Table column with the gene symbol.")
  var geneColumn = "gene"

  @Option(
    name: .customLong("batch-columns"),
    help:
      "Table columns whose values, joined with '_', name the batch (default: batch, or one batch 'all' when absent)."
  )
  var batchColumns: String?

  @Option(name: .customLong("image-column"), help: "Table column with the image path.")
  var imageColumn = "image"

  @Option(help: "Label of the control gene.")
  var control = "nontargeting"

  @Option(help: "Intensity normalisation: none, percentile, controls or percentile+controls.")
  var normalize = "none"

  @Option(
    name: .customLong("percentile-scope"),
    help:
      "What --normalize percentile takes percentiles over: all (every imported crop) or image (each source image, before cropping, as GRAPE)."
  )
  var percentileScope = "all"

  @Option(help: "Image compression in the store: none, deflate or deflate:LEVEL (1-9).")
  var compression = "deflate:1"

  @Option(help: "Threads that decode images (default: one per core).")
  var threads: Int?

  @Flag(help: "Print no progress lines.")
  var quiet = false

  @OptionGroup var overwrite: ForceOption

  func validate() throws {
    guard CellNormalization(rawValue: normalize) != nil else {
      throw ValidationError(
        "--normalize: '\(normalize)' is not one of none, percentile, controls, percentile+controls")
    }
    guard PercentileScope(rawValue: percentileScope) != nil else {
      throw ValidationError("--percentile-scope: '\(percentileScope)' is not all or image")
    }
    guard CellStoreCompression(argument: compression) != nil else {
      throw ValidationError("--compression: '\(compression)' is not none, deflate or deflate:1..9")
    }
    if let crop, crop <= 0 { throw ValidationError("--crop: \(crop) is not a positive size") }
    if let threads, threads < 1 { throw ValidationError("--threads: \(threads) is not positive") }
  }

  func run() throws {
    try CLISupport.run { try execute() }
  }

  private func execute() throws {
    // A source image is a TIFF, so `writes: .hdf5` also keeps --out off the images.
    try OutputGuard.check(output: out, flag: "--out", writes: .hdf5, inputs: [("--table", table)], force: overwrite.force)
    let normalization = CellNormalization(rawValue: normalize) ?? .none
    let storeCompression = CellStoreCompression(argument: compression) ?? .standard
    let selectedChannels: [String]? = channels.map { CLISupport.list($0) }
    let names: [String]? = channelNames.map { CLISupport.list($0) }
    let batchNames: [String]? = batchColumns.map { CLISupport.list($0) }
    let options = CellImportOptions(
      tablePath: table, imagesDirectory: images, outputPath: out, crop: crop,
      channels: selectedChannels,
      channelNames: names, imageColumn: imageColumn, geneColumn: geneColumn,
      batchColumns: batchNames,
      control: control, normalization: normalization,
      percentileScope: PercentileScope(rawValue: percentileScope) ?? .all,
      compression: storeCompression,
      threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
    let report: @Sendable (String) -> Void = { line in CLISupport.printError("import: " + line) }
    let progress = quiet ? nil : report
    let summary = try CellImporter.run(options, progress: progress)
    if let first = summary.repeatedRows.first {
      let count = summary.repeatedRows.count
      CLISupport.printError(
        "warning: \(table): \(count) row\(count == 1 ? "" : "s") name\(count == 1 ? "s" : "") a cell that an earlier row names (row \(first.row) repeats row \(first.earlier)); "
          + "each was imported as a separate cell")
    }
    let rate = summary.seconds > 0 ? Double(summary.cells) / summary.seconds : 0
    var message =
      "wrote \(out): \(summary.cells) cells, \(summary.genes) genes, \(summary.batches) batches, "
    message +=
      "\(summary.channels.count)×\(summary.height)×\(summary.width) \(summary.pixelType.rawValue)"
    if summary.skippedAtBorder > 0 {
      message += ", \(summary.skippedAtBorder) skipped at the border"
    }
    message += String(format: " (%.1f s, %.0f cells/s)", summary.seconds, rate)
    print(message)
  }
}
