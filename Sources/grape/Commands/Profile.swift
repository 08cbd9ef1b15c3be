import ArgumentParser
import Evaluation
import Foundation
import GrapeSupport
import OPSData

extension ProfileNormalizer.Method: ExpressibleByArgument {}
extension ProfileAggregation.Method: ExpressibleByArgument {}

/// `grape profile`: pycytominer- and harmonypy-style processing of per-cell profiles into one
/// profile per gene.
struct Profile: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Per-cell profiles to per-gene profiles: per-batch normalisation to the controls, feature selection, sphering, Harmony, aggregation.",
    discussion: """
      Steps run in this order, each only when asked: --normalize (pycytominer normalize per batch, \
      samples = the controls), --feature-select (pycytominer feature_select over all cells), --sphere \
      (pycytominer Spherize ZCA fitted on each batch's controls), --harmony (harmonypy run_harmony on \
      the top --harmony-components principal components), then --aggregate per gene. The input is \
      an HDF5 file of per-cell values with /obs/gene, /obs/batch, /genes, /batches (grape encode, \
      grape features --cells-out) or a per-cell CSV with Metadata_gene and Metadata_batch columns.
      """)

  @Option(help: "Per-cell profiles: .h5 (/styles, /features or another [cells, d] dataset with /obs/gene, /obs/batch, /genes, /batches), .h5ad (dense X, obs gene and batch) or .csv/.tsv (Metadata_gene, Metadata_batch, feature columns).")
  var cells: String

  @Option(help: "Output per-gene profiles (.h5, .tsv, .csv or .h5ad).")
  var out: String

  @Option(help: "Per-batch normalisation to the control cells: none, standardize (mean, std) or robust (median, MAD × 1.4826).")
  var normalize: ProfileNormalizer.Method = .none

  @Option(name: .customLong("feature-select"), help: ArgumentHelp("Feature selection operations in order, comma-separated: variance (frequency/uniqueness: freq_cut 0.05, unique_cut 0.01), min-variance (variance ≤ 1e-6), correlation (Pearson above 0.9).", valueName: "ops"))
  var featureSelect: String?

  @Flag(help: "ZCA-whiten each batch with the transform fitted on its control cells.")
  var sphere = false

  @Option(name: .customLong("sphere-epsilon"), help: "The regulariser added to each singular value in sphering.")
  var sphereEpsilon: Double = 1e-6

  @Flag(help: "Align the cells over batches with Harmony (on their principal components).")
  var harmony = false

  @Option(name: .customLong("harmony-components"), help: "Principal components Harmony works on (capped at the features).")
  var harmonyComponents: Int = 50

  @Option(name: .customLong("harmony-clusters"), help: "Harmony's clusters (default min(round(cells / 30), 100)).")
  var harmonyClusters: Int?

  @Option(name: .customLong("harmony-theta"), help: "Harmony's diversity penalty.")
  var harmonyTheta: Double = 2

  @Option(help: "Per-gene statistic: mean or median.")
  var aggregate: ProfileAggregation.Method = .mean

  @Option(help: "The control gene (default: the file's control attribute, else a gene named nontargeting).")
  var control: String?

  @Option(name: .customLong("codes-dataset"), help: "The per-cell dataset of an HDF5 input (default /styles, /codes, else the only 2-D float dataset).")
  var codesDataset: String?

  @Option(name: .customLong("gene-column"), help: "The gene column of a table input (default Metadata_gene) or obs column of an .h5ad input (default gene).")
  var geneColumn: String?

  @Option(name: .customLong("batch-column"), help: "The batch column of a table input (default Metadata_batch, else Metadata_plate) or obs column of an .h5ad input (default batch).")
  var batchColumn: String?

  @Option(name: .customLong("cells-out"), help: ArgumentHelp("Also write the processed per-cell matrix (before aggregation): .h5, .h5ad or .csv.", valueName: "file"))
  var cellsOut: String?

  @OptionGroup var seeding: SeedOption
  @OptionGroup var overwrite: ForceOption

  func validate() throws {
    guard GeneEmbedding.FileFormat(path: out) != nil else { throw ValidationError("--out \(out): the extension must be .h5, .tsv, .csv or .h5ad") }
    _ = try operations()
    guard sphereEpsilon >= 0, sphereEpsilon.isFinite else { throw ValidationError("--sphere-epsilon must be a finite number ≥ 0, got \(sphereEpsilon)") }
    guard harmonyComponents >= 1 else { throw ValidationError("--harmony-components must be at least 1, got \(harmonyComponents)") }
    if let harmonyClusters { guard harmonyClusters >= 1 else { throw ValidationError("--harmony-clusters must be at least 1, got \(harmonyClusters)") } }
    guard harmonyTheta >= 0 else { throw ValidationError("--harmony-theta must be ≥ 0, got \(harmonyTheta)") }
    if let cellsOut { try CellFeatureOutput.validate(cellsOut) }
  }

  /// The `--feature-select` operations, in order.
  func operations() throws -> [FeatureSelection.Operation] {
    guard let featureSelect else { return [] }
    return try featureSelect.split(separator: ",").map { part in
      let name = part.trimmingCharacters(in: .whitespaces)
      guard let op = FeatureSelection.Operation(rawValue: name) else {
        throw ValidationError(
          "--feature-select: unknown operation '\(name)'; choose from \(FeatureSelection.Operation.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      return op
    }
  }

  func run() throws {
    try CLISupport.run {
      try OutputGuard.check(output: out, flag: "--out", inputs: [("--cells", cells)], force: overwrite.force)
      if let cellsOut {
        try OutputGuard.check(output: cellsOut, flag: "--cells-out", inputs: [("--cells", cells), ("--out", out)], force: overwrite.force)
      }
      let (profiles, sourceLabel) = try ProfileInput.read(
        cells, dataset: codesDataset, geneColumn: geneColumn, batchColumn: batchColumn, control: control)
      print("read \(profiles.count) cells × \(profiles.dimension) (\(sourceLabel)), \(profiles.batches.count) batches, control \(profiles.controlGene.map { "'\(profiles.genes[$0])'" } ?? "none")")
      var pipeline = ProfilePipeline()
      pipeline.normalization = normalize
      pipeline.featureSelection = FeatureSelection(operations: try operations())
      if sphere { pipeline.sphering = Sphering(epsilon: sphereEpsilon) }
      if harmony {
        var h = Harmony()
        h.clusters = harmonyClusters
        h.theta = harmonyTheta
        pipeline.harmony = h
      }
      pipeline.harmonyComponents = harmonyComponents
      pipeline.aggregation = aggregate
      var rng = RandomGenerator(seed: seeding.seed)
      let result = try pipeline.run(profiles, rng: &rng)
      for line in result.log { print(line) }
      var provenance = OutputProvenance()
      provenance.set("cells", .string(OutputProvenance.absolutePath(cells)))
      provenance.set("steps", .strings(result.steps))
      provenance.set("normalization", .string(normalize.rawValue))
      provenance.set("n_features", .int(result.cells.dimension))
      provenance.set("feature_names", .strings(result.cells.features))
      if !result.droppedFeatures.isEmpty { provenance.set("dropped_features", .strings(result.droppedFeatures)) }
      if sphere { provenance.set("sphere_epsilon", .string("\(sphereEpsilon)")) }
      if harmony { provenance.set("seed", .int(Int(truncatingIfNeeded: seeding.seed))) }
      provenance.set("aggregation", .string(aggregate.rawValue))
      let e = result.embedding
      let annotations = EmbeddingAnnotations(
        provenance: provenance, controlGene: profiles.controlGene.map { profiles.genes[$0] },
        cellCounts: Dictionary(zip(e.genes, result.cellCounts), uniquingKeysWith: +))
      try GeneEmbedding(unchecked: e.genes, values: e.values, dimension: e.dimension, source: "profile")
        .write(to: out, annotations: annotations)
      print("wrote \(e.count) genes × \(e.dimension) to \(out)")
      if let cellsOut {
        let p = result.cells
        let codes = try CellCodes(
          name: "profiles", values: p.values.map(Float.init), dimension: p.dimension,
          geneOfCell: p.geneOfCell.map(Int32.init), batchOfCell: p.batchOfCell.map(Int32.init), genes: p.genes,
          batches: p.batches)
        if let c = p.controlGene { provenance.set("control", .string(p.genes[c])) }
        try codes.write(
          to: cellsOut, fields: [], provenance: provenance, controlGene: p.controlGene.map { p.genes[$0] },
          columnNames: p.features, source: "profile")
        print("wrote \(p.count) cells × \(p.dimension) to \(cellsOut)")
      }
    }
  }
}

/// Reading `grape profile --cells`.
enum ProfileInput {
  /// The per-cell matrix of `path` with its labels and control, and a label saying what was read.
  static func read(
    _ path: String, dataset: String?, geneColumn: String?, batchColumn: String?, control: String?
  ) throws -> (CellProfiles, String) {
    guard FileManager.default.fileExists(atPath: path) else { throw OPSDataError.fileNotFound(path: path) }
    let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
    let codes: CellCodes
    var names: [String]?
    var fileControl: String?
    if ["csv", "tsv", "txt"].contains(ext) {
      let table = try CellCodes.readProfileTable(from: path, geneColumn: geneColumn, batchColumn: batchColumn)
      codes = table.codes
      names = table.columnNames
    } else if ext == "h5ad" {
      let file = try CellCodes.readH5AD(from: path, geneColumn: geneColumn, batchColumn: batchColumn)
      codes = file.codes
      names = file.columnNames
      fileControl = try CellCodes.readH5ADControl(from: path)
    } else {
      codes = try CellCodes.read(from: path, dataset: dataset)
      names = try CellCodes.readColumnNames(from: path, dimension: codes.dimension)
      fileControl = try CellCodes.readControl(from: path)
    }
    let controlName = control ?? fileControl ?? (codes.genes.contains("nontargeting") ? "nontargeting" : nil)
    let profiles = try Self.profiles(codes, features: names, control: controlName, file: path)
    return (profiles, ["csv", "tsv", "txt"].contains(ext) ? "table" : ext == "h5ad" ? "AnnData X" : "/\(codes.name)")
  }

  /// Per-cell codes as profiles (features named `dim_0…` unless `features` names them), with
  /// `control` as the control gene; an unknown control is an error naming `--control` and `file`.
  static func profiles(_ codes: CellCodes, features: [String]?, control: String?, file: String) throws -> CellProfiles {
    var controlIndex: Int?
    if let control {
      guard let i = codes.genes.firstIndex(of: control) else {
        throw OPSDataError.invalidArgument(name: "--control", message: "'\(control)' is not a gene of \(file)")
      }
      controlIndex = i
    }
    return try CellProfiles(
      values: codes.values.map(Double.init), features: features ?? (0..<codes.dimension).map { "dim_\($0)" },
      geneOfCell: codes.geneOfCell.map(Int.init), batchOfCell: codes.batchOfCell.map(Int.init), genes: codes.genes,
      batches: codes.batches, controlGene: controlIndex)
  }
}
