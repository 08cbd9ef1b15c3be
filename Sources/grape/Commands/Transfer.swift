import GrapeSupport
import Training
import ArgumentParser
import Foundation
import GRAPE
import OPSData
import TensorCore

/// `grape transfer`: cells as if they carried another gene.
struct Transfer: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Translate cells to a gene with the generator: G(x, F(M[gene])).",
    discussion: "FILE.h5 gets /images [N, C, H, W] (and /inputs); FILE.png a grid: input cells on the top row, their translations below.")

  @Option(name: .customLong("run"), help: "The run folder.")
  var runPath: String

  @Option(help: "The cell store whose cells are translated.")
  var data: String

  @Option(help: "The target gene (a name in the model's gene list).")
  var gene: String

  @Option(help: "Output file (.h5 or .png).")
  var out: String

  @Option(help: "Translate at most this many cells (the first ones of the store).")
  var limit: Int = 64

  @Flag(help: "Use the trained weights instead of their exponential moving average.")
  var noEma = false

  @OptionGroup var overwrite: ForceOption

  func validate() throws {
    guard limit >= 1 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
    guard out.hasSuffix(".h5") || out.hasSuffix(".hdf5") || out.hasSuffix(".png") else {
      throw ValidationError("--out \(out): the extension must be .h5 or .png")
    }
  }

  func run() throws {
    try CLISupport.run {
      try OutputGuard.check(output: out, flag: "--out", inputs: [("--data", data)], force: overwrite.force)
      let step = GRAPEInference.newestCheckpointStep(run: runPath)
      let (config, nets) = try loadTrainedNetworks(run: RunFolder(path: runPath), useEMA: !noEma, step: step)
      guard let target = config.genes.firstIndex(of: gene) else {
        throw GRAPEError.dataMismatch("--gene \(gene): not among the model's \(config.genes.count) genes (e.g. \(config.genes.prefix(5).joined(separator: ", ")))")
      }
      let cells = try StoreCellSource(path: data)
      try GRAPEInference.checkShape(config: config, cells: cells, data: data)
      let indices = Array(0..<min(limit, cells.cellCount))
      let transform = try (config.inputTransform ?? .identity).bound(to: cells)
      let moved = try GRAPEInference.transfer(nets, source: cells, transform: transform, indices: indices, gene: target)
      let inputs = try cells.inputs(indices, transform: transform)
      if out.hasSuffix(".png") {
        let (c, h, w) = (cells.imageShape[0], cells.imageShape[1], cells.imageShape[2])
        let grid = try CropMontage.compose(
          crops: inputs.scalars + moved.scalars, channels: c, height: h, width: w, columns: indices.count, rows: 2,
          scale: max(1, 96 / max(h, 1)))
        try PNGWriter.write(grid, to: URL(fileURLWithPath: out))
        print("wrote \(indices.count) cells and their translations to \(gene) to \(out)")
        return
      }
      let file = try HDF5File.create(out)
      let root = try file.root
      try root.write("images", moved.scalars, shape: moved.shape)
      try root.write("inputs", inputs.scalars, shape: moved.shape)
      try root.write("obs/gene", indices.map { cells.store.geneOfCell[$0] })
      try root.writeStrings("genes", cells.geneNames)
      try root.writeString("target_gene", gene)
      try GRAPEInference.provenance(run: runPath, step: step, useEMA: !noEma, data: data)
        .setting("target_gene", .string(gene)).write(to: root)
      try file.commit()
      print("wrote \(indices.count) translated cells to \(out)")
    }
  }
}
