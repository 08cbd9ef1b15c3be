import Training
import GrapeSupport
import ArgumentParser
import Evaluation
import Foundation
import OPSData

/// `grape evaluate`: CORUM metrics of a gene embedding, batch metrics of per-cell codes.
struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score a gene embedding against CORUM complexes (mAP, k-means NMI/ARI/purity) beside baselines; with --cells, batch-effect metrics too.",
    discussion: "Writes DIR/metrics.json, DIR/report.md and SVG figures. Random embeddings of the same shape are always a baseline.")

  @Option(help: "A gene embedding (.h5, .h5ad, .csv, .tsv or .txt): the toolkit's files, pycytominer or pandas tables with a gene column, AnnData files (dense or sparse X); rows of one gene (cells, wells) are averaged.")
  var embedding: String?

  @Option(name: .customLong("gene-column"), help: ArgumentHelp("The table column or AnnData obs column with the gene names (default: the first of gene, Metadata_gene, Metadata_Gene, gene_symbol, Metadata_gene_symbol; for AnnData, else the obs index).", valueName: "name"))
  var geneColumn: String?

  @Option(help: ArgumentHelp("Take an AnnData file's matrix (--embedding, or --cells .h5ad) from obsm/KEY (e.g. X_grape) instead of X.", valueName: "key"))
  var obsm: String?

  @Option(help: "Per-cell codes: HDF5 from grape encode (or any file with codes, /obs/gene, /obs/batch, /genes, /batches), or AnnData .h5ad from grape encode or grape features --cells-out (X or --obsm KEY, obs columns gene and batch).")
  var cells: String?

  @Option(name: .customLong("batch-column"), help: ArgumentHelp("The obs column of a --cells .h5ad file with each cell's batch (default: batch, else Metadata_batch).", valueName: "name"))
  var batchColumn: String?

  @Option(help: "Name of the codes dataset in --cells (default: /styles, else the only 2-D float dataset).")
  var codesDataset: String?

  @Option(help: "Complexes table (TSV: complex_id, complex_name, gene). Default: Data/corum_complexes.tsv.")
  var complexes: String?

  @Option(help: "Output folder.")
  var out: String

  @Option(help: "k of k-means (default: the number of complexes).")
  var k: Int?

  @Option(help: "k-means runs with different seeds.")
  var restarts: Int = 100

  @OptionGroup var seeding: SeedOption
  var seed: UInt64 { seeding.seed }

  @Option(name: .customLong("k-range"), help: "k sweep as LOW-HIGH (default 5-30); 'none' skips it.")
  var kRange: String = "5-30"

  @Option(help: "A further embedding evaluated as a baseline in the same run (repeatable).")
  var baseline: [String] = []

  @Option(name: .customLong("null-size"), help: "Null draws per configuration of copairs' permutation test (significance of complexes and genes, phenotypic activity of cells); 0 skips them.")
  var nullSize: Int = 10_000

  @Option(help: "Benjamini-Hochberg corrected p-values below this count as significant.")
  var threshold: Double = 0.05

  @Option(help: ArgumentHelp("The control gene of the phenotypic activity (default: nontargeting); in an embedding, rows named NAME or NAME_* are control rows.", valueName: "name"))
  var control: String?

  @Option(name: .customLong("recall-percentile"), help: "Tail percentile of the relationship recall (5: pairs below the 5th or above the 95th percentile).")
  var recallPercentile: Double = 5

  @Flag(name: .customLong("no-figures"), help: "Skip the 2-D projections (PCA, t-SNE).")
  var noFigures = false

  func validate() throws {
    guard (embedding == nil) != (cells == nil) else { throw ValidationError("give exactly one of --embedding FILE and --cells FILE") }
    guard restarts >= 1, restarts <= 100_000 else { throw ValidationError("--restarts must lie in 1...100000, got \(restarts)") }
    if let k { guard k >= 1 else { throw ValidationError("--k must be at least 1, got \(k)") } }
    guard nullSize >= 0, nullSize <= 1_000_000 else { throw ValidationError("--null-size must lie in 0...1000000, got \(nullSize)") }
    guard threshold > 0, threshold < 1 else { throw ValidationError("--threshold must lie in (0, 1), got \(threshold)") }
    guard recallPercentile > 0, recallPercentile < 50 else { throw ValidationError("--recall-percentile must lie in (0, 50), got \(recallPercentile)") }
    if let cells, !CellCodes.isAnnData(cells) {
      if geneColumn != nil || obsm != nil || batchColumn != nil {
        throw ValidationError("--gene-column, --obsm and --batch-column apply to --embedding and to --cells .h5ad files (the HDF5 codes of --cells \(cells) name their genes in /genes)")
      }
    }
    if embedding != nil, batchColumn != nil { throw ValidationError("--batch-column applies to --cells .h5ad files") }
    if let cells, CellCodes.isAnnData(cells), codesDataset != nil {
      throw ValidationError("--codes-dataset applies to HDF5 codes; for --cells \(cells), an AnnData file, take a matrix with --obsm KEY")
    }
    _ = try parsedRange()
  }

  func parsedRange() throws -> ClosedRange<Int>? {
    if kRange == "none" { return nil }
    let parts = kRange.split(separator: "-").compactMap { Int($0) }
    guard parts.count == 2, parts[0] >= 1, parts[0] <= parts[1] else {
      throw ValidationError("--k-range must be LOW-HIGH with 1 ≤ LOW ≤ HIGH, or none; got '\(kRange)'")
    }
    return parts[0]...parts[1]
  }

  func run() throws {
    try CLISupport.run {
      guard let tablePath = complexes ?? DataFiles.defaultComplexes else {
        throw OPSDataError.fileNotFound(path: "Data/corum_complexes.tsv (pass --complexes TSV)")
      }
      let table = try ComplexTable(contentsOf: URL(fileURLWithPath: tablePath))
      let assignment = try CLISupport.complexAssignment(table)
      var options = EvaluationOptions(k: k, restarts: restarts, seed: seed, kRange: try parsedRange())
      options.projections = !noFigures
      options.tsne = !noFigures
      options.nullSize = nullSize
      options.significanceThreshold = threshold
      options.control = control
      options.recallPercentile = recallPercentile
      // A baseline may come from elsewhere: its gene column is the one named when it has it.
      let baselineOptions = EmbeddingReadOptions(geneColumn: geneColumn, geneColumnRequired: false)
      let baselines = try baseline.map { path in
        let (read, how) = try GeneEmbedding.readReporting(from: path, options: baselineOptions)
        if how.format != .hdf5 { for line in how.lines { print("\(URL(fileURLWithPath: path).lastPathComponent): \(line)") } }
        return NamedEmbedding(
          name: URL(fileURLWithPath: path).lastPathComponent, embedding: try read.validatedForEvaluation(input: path))
      }
      let report: EvaluationReport
      if let embedding {
        let (read, how) = try GeneEmbedding.readReporting(
          from: embedding, options: EmbeddingReadOptions(geneColumn: geneColumn, obsm: obsm))
        for line in how.lines { print("\(URL(fileURLWithPath: embedding).lastPathComponent): \(line)") }
        let e = try read.validatedForEvaluation(input: embedding)
        report = try Evaluator.evaluate(
          embedding: e, complexes: assignment, baselines: baselines, options: options, name: URL(fileURLWithPath: embedding).lastPathComponent)
      } else if let cells {
        let c = CellCodes.isAnnData(cells)
          ? try CellCodes.readH5AD(from: cells, geneColumn: geneColumn, batchColumn: batchColumn, obsm: obsm, batchRequired: true).codes
          : try CellCodes.read(from: cells, dataset: codesDataset)
        let codes = try LabeledCodes(
          values: c.values, dimension: c.dimension, geneIndex: c.geneOfCell.map(Int.init), geneNames: c.genes,
          batchIndex: c.batchOfCell.map(Int.init), batchNames: c.batches, input: cells)
        report = try Evaluator.evaluate(cells: codes, complexes: assignment, baselines: baselines, options: options)
      } else {
        return
      }
      let written = try report.write(to: URL(fileURLWithPath: out))
      print(summary(report))
      print("wrote \(written.count) files to \(out) (metrics.json, report.md, figures)")
    }
  }
}

extension ProfileNormalization: ExpressibleByArgument {}

/// `grape features`: the engineered-feature baseline embedding.
struct Features: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Hand-made per-cell features (intensity, nucleus shape, texture, spots), standardised, reduced by PCA and averaged per gene.")

  @Option(help: "The cell store.")
  var data: String

  @Option(help: "Output embedding (.h5, .tsv, .csv or .h5ad).")
  var out: String

  @Option(help: "Principal components kept.")
  var components: Int = 32

  @Option(name: .customLong("batch-size"), help: "Cells read per chunk.")
  var batchSize: Int = 512

  @Option(help: "Per-batch normalisation before standardising: none, or controls (each batch's features standardised by its control cells, as pycytominer's normalize).")
  var normalize: ProfileNormalization = .none

  @Option(help: "A complexes table (complex_id, complex_name, gene) whose complexes an .h5ad file records per gene (obs complex_id, complex_name); a simulated store's own truth is used without it.")
  var complexes: String?

  @Option(name: .customLong("cells-out"), help: ArgumentHelp("Also write the per-cell features (before PCA and aggregation), columns named by channel: .csv (Metadata_gene, Metadata_batch, Metadata_plate, Metadata_well, as pycytominer reads), .h5ad or .h5 (/features, /feature_names, /obs, for grape profile --cells).", valueName: "file"))
  var cellsOut: String?

  @OptionGroup var overwrite: ForceOption

  func validate() throws {
    guard GeneEmbedding.FileFormat(path: out) != nil else { throw ValidationError("--out \(out): the extension must be .h5, .tsv, .csv or .h5ad") }
    if let cellsOut { try CellFeatureOutput.validate(cellsOut) }
    guard components >= 1 else { throw ValidationError("--components must be at least 1, got \(components)") }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
  }

  func run() throws {
    try CLISupport.run {
      let inputs = [("--data", data)] + (complexes.map { [("--complexes", $0)] } ?? [])
      try OutputGuard.check(output: out, flag: "--out", inputs: inputs, force: overwrite.force)
      if let cellsOut {
        try OutputGuard.check(output: cellsOut, flag: "--cells-out", inputs: inputs + [("--out", out)], force: overwrite.force)
      }
      let table = try complexes.map { try ComplexTable(contentsOf: URL(fileURLWithPath: $0)) }
      let store = try CellStore(path: data)
      var extractor = try FeatureExtractor(
        channels: store.channels.count, height: store.height, width: store.width, genes: store.genes, components: components,
        normalization: normalize, controlGene: store.controlIndex, batches: max(1, store.batches.count))
      // Under mpirun or srun each rank reads and measures its share of every chunk; the rows are
      // gathered and folded in store order, so the result is the single process's.
      let group = ProcessGroup.world
      let width = extractor.spec.count
      var cellRows: [Float] = []
      var start = 0
      while start < store.count {
        let idx = Array(start..<min(start + batchSize, store.count))
        let mine = group.share(of: idx.count)
        let own = try extractor.features(of: try store.images(at: Array(idx[mine])), firstRow: start + mine.lowerBound)
        var rows = own
        if group.isDistributed {
          var gathered = [Double](repeating: 0, count: idx.count * width)
          for (r, row) in own.enumerated() { gathered.replaceSubrange(((mine.lowerBound + r) * width)..<((mine.lowerBound + r + 1) * width), with: row) }
          group.allreduceSum(&gathered)
          rows = (0..<idx.count).map { Array(gathered[($0 * width)..<(($0 + 1) * width)]) }
        }
        try extractor.add(rows: rows, geneIndex: idx.map { Int(store.geneOfCell[$0]) }, batchIndex: idx.map { Int(store.batchOfCell[$0]) })
        if cellsOut != nil { for row in rows { cellRows += row.map(Float.init) } }
        start += idx.count
      }
      let result = try extractor.finalize()
      guard group.isPrimary else { return }
      let e = result.embedding
      var provenance = OutputProvenance()
      provenance.set("data", .string(OutputProvenance.absolutePath(data)))
      provenance.set("normalization", .string(normalize.rawValue))
      provenance.set("n_features", .int(width))
      provenance.set("feature_names", .strings(extractor.featureNames))
      provenance.set("components", .int(e.dimension))
      provenance.set("cells_processed", .int(result.cellsProcessed))
      let annotations = EmbeddingAnnotations(
        provenance: provenance, controlGene: store.controlIndex.map { store.genes[$0] },
        cellCounts: Dictionary(zip(store.genes, store.cellsPerGene), uniquingKeysWith: +),
        complexes: try table ?? ComplexTable.fromTruth(of: store))
      try GeneEmbedding(unchecked: e.genes, values: e.values, dimension: e.dimension, source: "features")
        .write(to: out, annotations: annotations)
      print("wrote \(e.count) genes × \(e.dimension) engineered features (\(result.cellsProcessed) cells) to \(out)")
      if let cellsOut {
        try CellFeatureOutput.write(cellRows, spec: extractor.spec, store: store, data: data, to: cellsOut)
        print("wrote \(store.count) cells × \(width) features to \(cellsOut)")
      }
    }
  }
}

/// One line: mAP and k-means NMI of the embedding beside the random baseline.
func summary(_ r: EvaluationReport) -> String {
  func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }
  var line = "\(r.main.name): mAP \(f(r.main.map))"
  if let km = r.main.kmeans { line += ", NMI \(f(km.nmi.mean)), ARI \(f(km.ari.mean)), purity \(f(km.purity.mean)) (k = \(km.k))" }
  if let random = r.random { line += "; random mAP \(f(random.map.mean))" }
  if let s = r.significance, let share = s.fractionComplexesRetrieved {
    line += "; complexes retrieved at corrected p < \(s.perComplex.threshold): \(f(share))"
  }
  for b in r.baselines { line += "; \(b.name) mAP \(f(b.map))" }
  return line
}
