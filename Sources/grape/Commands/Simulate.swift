import GrapeSupport
import ArgumentParser
import Foundation
import OPSData
import Simulation
import TensorCore

/// `grape simulate`: a simulated optical pooled screen with known truth and batch effects.
struct Simulate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Render a simulated OPS screen (4-channel crops, CORUM complexes, batch effects) as a cell store.",
    discussion: """
      The store holds /images (uint16), /obs, /genes, /batches and the ground truth under /truth \
      (complex of each gene, phenotype vectors, batch and plate effects). The same seed gives the same bytes.
      --layout arrayed makes an RxRx1-like screen instead: --experiments experiments (one batch each) spread over \
      --cell-lines cell lines, every gene in --wells-per-gene wells of its own per experiment, --cells-per-well cells \
      per well; /obs/cell_line and /truth/cell_line_*, /truth/well_* record lines and wells.
      """)

  @Option(help: "Output cell store (.h5).")
  var out: String

  @Option(help: "Complexes table (TSV: complex_id, complex_name, gene). Default: Data/corum_complexes.tsv.")
  var complexes: String?

  @Option(help: "Crop side in pixels (16–128).")
  var size: Int = 32

  @Option(name: .customLong("cells-per-gene"), help: "Cells of each gene (and of each control guide).")
  var cellsPerGene: Int = 100

  @Option(help: "Non-targeting control guides, pooled under one control label.")
  var controls: Int = 4

  @Option(help: "Experimental batches.")
  var batches: Int = 4

  @Option(name: .customLong("plates-per-batch"), help: "Plates in each batch.")
  var platesPerBatch: Int = 2

  @Option(name: .customLong("batch-effect"), help: "Scale of all batch and plate differences (0 = none).")
  var batchEffect: Double = 1.0

  @Option(name: .customLong("phenotype-strength"), help: "Scale of all gene phenotypes (0 = none).")
  var phenotypeStrength: Double = 1.0

  @Option(help: "Screen layout: pooled (every gene in every plate) or arrayed (RxRx1-like: experiments of cell lines, one gene per well).")
  var layout: String = "pooled"

  @Option(help: "Arrayed layout: experiments, one batch each (default 12).")
  var experiments: Int = 12

  @Option(name: .customLong("cell-lines"), help: "Arrayed layout: cell lines the experiments are spread over (default 2).")
  var cellLines: Int = 2

  @Option(name: .customLong("wells-per-gene"), help: "Arrayed layout: wells of each gene in each experiment (controls get --controls times as many).")
  var wellsPerGene: Int = 2

  @Option(name: .customLong("cells-per-well"), help: "Arrayed layout: cells imaged in each well.")
  var cellsPerWell: Int = 20

  @Option(name: .customLong("cell-line-effect"), help: "Arrayed layout: scale of the differences between cell lines (0 = none).")
  var cellLineEffect: Double = 1.0

  @OptionGroup var seeding: SeedOption
  var seed: UInt64 { seeding.seed }

  @Option(name: .customLong("tiff-dir"), help: "Also write the cells as TIFF files with a cells.csv table that grape import reads.")
  var tiffDir: String?

  @Option(help: "Also write example grids (complexes.png, batches.png, traits.png, channels.png; arrayed: experiments.png, cell_lines.png) into this folder.")
  var preview: String?

  @Flag(help: "Print no progress lines.")
  var quiet = false

  @OptionGroup var overwrite: ForceOption

  func run() throws {
    try CLISupport.run {
      guard let tablePath = complexes ?? DataFiles.defaultComplexes else {
        throw OPSDataError.fileNotFound(path: "Data/corum_complexes.tsv (pass --complexes TSV)")
      }
      try OutputGuard.check(output: out, flag: "--out", writes: .hdf5, inputs: [("--complexes", tablePath)], force: overwrite.force)
      let table = try ComplexTable(contentsOf: URL(fileURLWithPath: tablePath))
      var config = SimulationConfig(
        size: size, cellsPerGene: cellsPerGene, controls: controls, batches: batches, platesPerBatch: platesPerBatch,
        batchEffect: batchEffect, phenotypeStrength: phenotypeStrength, seed: seed)
      config.controlName = "nontargeting"
      switch layout {
      case "pooled": break
      case "arrayed":
        config.arrayed = ArrayedScreenConfig(
          experiments: experiments, cellLines: cellLines, wellsPerGene: wellsPerGene, cellsPerWell: cellsPerWell,
          cellLineEffect: cellLineEffect)
      default:
        throw SimulationError.invalidValue(flag: "--layout", value: layout, requirement: "must be pooled or arrayed")
      }
      let sim = try ScreenSimulator(config: config, complexes: table)
      if let preview { try sim.renderExampleGrids(outDir: URL(fileURLWithPath: preview)) }
      let store = try SimulationStoreSink(path: out, truth: sim.truth, size: size)
      var sinks: [any SimulationSink] = [store]
      let tiff = try tiffDir.map { try SimulationTIFFSink(dir: $0, truth: sim.truth) }
      if let tiff { sinks.append(tiff) }
      var tee = TeeSink(sinks)
      let t0 = monotonicSeconds()
      var last = t0
      try sim.run(into: &tee) { done, total in
        let now = monotonicSeconds()
        if !quiet && (now - last > 5 || done == total) {
          note("simulated \(done)/\(total) cells (\(Int(Double(done) / max(now - t0, 1e-9))) cells/s)")
          last = now
        }
      }
      try store.finish()
      try tiff?.finish()
      print("wrote \(sim.cellCount) cells (\(sim.geneCount) genes, \(config.batchCount) \(config.isArrayed ? "experiments" : "batches"), \(size)×\(size) px) to \(out)")
    }
  }
}
