import GrapeSupport
import Foundation
import OPSData
import Training

/// Which gene × d matrix `grape export` writes (`--source`).
public enum EmbeddingSource: String, ConfigChoice {
  /// The rows of the learned gene embedding M.
  case embedding
  /// Per-gene means of the style encoder's codes over the cells of a store.
  case styleMean = "style-mean"
}

/// The outputs of a trained run that the command line writes: each reads the run folder, checks
/// the cells against the model and returns the value to write.
extension GRAPEInference {
  /// The gene × d embedding of a trained run (`grape export`). Under mpirun or srun the codes
  /// of `styleMean` are shared out over the ranks.
  ///
  /// - Parameters:
  ///   - run: the run folder.
  ///   - source: rows of M, or per-gene means of the codes of `data`'s cells.
  ///   - data: the cell store to encode (`styleMean` only).
  ///   - normalization: with `styleMean`, `.controls` standardises each batch's codes by its
  ///     control cells before the means.
  ///   - step: the checkpoint (nil: the newest).
  ///   - useEMA: the weight average (true) or the trained weights.
  /// - Throws: when the run or the store cannot be read, the crops do not fit the model, or M
  ///   holds NaN or infinite values.
  public static func geneEmbedding(
    run: String, source: EmbeddingSource, data: String?, normalization: ProfileNormalization = .none, step: Int? = nil,
    useEMA: Bool = true
  ) throws -> GeneEmbedding {
    try annotatedGeneEmbedding(
      run: run, source: source, data: data, normalization: normalization, step: step, useEMA: useEMA
    ).embedding
  }

  /// The gene × d embedding of a trained run with what its file records about it (`grape
  /// export`): the provenance (``provenance(run:step:useEMA:data:)`` and `normalization` for
  /// style means), the control gene, each gene's cell count when cells were read, and the
  /// complexes. The embedding's `source` is `embedding` or `style-mean`.
  ///
  /// - Parameters:
  ///   - run, source, data, normalization, step, useEMA: as for
  ///     ``geneEmbedding(run:source:data:normalization:step:useEMA:)``; with `source`
  ///     `embedding`, a `data` store is read only for its labels (cell counts, control, truth).
  ///   - control: the control gene's name; nil takes the store's (`data`), else a `control` key of
  ///     the run's `config.json`, else a gene named `nontargeting` or `non-targeting`.
  ///   - complexes: the complexes table; nil takes a simulated store's `/truth` (`data`).
  public static func annotatedGeneEmbedding(
    run: String, source: EmbeddingSource, data: String?, normalization: ProfileNormalization = .none, step: Int? = nil,
    useEMA: Bool = true, control: String? = nil, complexes: ComplexTable? = nil
  ) throws -> (embedding: GeneEmbedding, annotations: EmbeddingAnnotations) {
    let folder = RunFolder(path: run)
    let pinned = step ?? newestCheckpointStep(run: run)
    let (config, nets) = try loadTrainedNetworks(run: folder, useEMA: useEMA, step: pinned)
    if let control, !config.genes.contains(control) {
      throw GRAPEError.dataMismatch(
        "--control \(control): not among the model's \(config.genes.count) genes (e.g. \(config.genes.prefix(5).joined(separator: ", ")))")
    }
    var annotations = EmbeddingAnnotations(provenance: provenance(run: run, step: pinned, useEMA: useEMA, data: data))
    var store: CellStore?
    let result: GeneEmbedding
    switch source {
    case .styleMean:
      guard let data else { throw GRAPEError.invalidConfig("--source style-mean needs a cell store (--data)") }
      let cells = try StoreCellSource(path: data)
      store = cells.store
      try checkShape(config: config, cells: cells, data: data)
      let (means, counts) = try styleMeans(
        nets, source: cells, transform: config.inputTransform ?? .identity, normalization: normalization, group: .world)
      let keep = counts.indices.filter { counts[$0] > 0 }
      let rows = means.indexSelect(keep)
      annotations.provenance.set("normalization", .string(normalization.rawValue))
      result = try GeneEmbedding(
        genes: keep.map { cells.geneNames[$0] }, values: rows.scalars, dimension: rows.shape[1], source: source.rawValue)
    case .embedding:
      let m = embedding(nets)
      if m.scalars.contains(where: { !$0.isFinite }) {
        throw GRAPEError.invalidRun(
          path: run,
          reason: "the gene embedding of checkpoint \(step.map { "step \($0)" } ?? "latest") holds NaN or infinite values; export an earlier checkpoint (--checkpoint)")
      }
      if let data { store = try CellStore(path: data) }
      result = try GeneEmbedding(genes: config.genes, values: m.scalars, dimension: m.shape[1], source: source.rawValue)
    }
    if let store {
      let perGene = store.cellsPerGene
      annotations.cellCounts = Dictionary(zip(store.genes, perGene), uniquingKeysWith: +)
    }
    annotations.controlGene = control ?? store?.control ?? configuredControl(folder) ?? conventionalControl(result.genes)
    annotations.complexes = try complexes ?? store.flatMap { try ComplexTable.fromTruth(of: $0) }
    return (result, annotations)
  }

  /// A `control` string in the run's `config.json`, if it has one.
  static func configuredControl(_ folder: RunFolder) -> String? {
    guard let data = FileManager.default.contents(atPath: folder.configPath), let json = try? JSONValue.parse(data),
      case .string(let name)? = json["control"], !name.isEmpty
    else { return nil }
    return name
  }

  /// The gene named as non-targeting controls usually are (`nontargeting`, `non-targeting`,
  /// in any case), if exactly one is.
  static func conventionalControl(_ genes: [String]) -> String? {
    let found = genes.filter { ["nontargeting", "non-targeting"].contains($0.lowercased()) }
    return found.count == 1 ? found.first : nil
  }

  /// The style code of every cell of `data` (`grape encode`), with the cells' genes and batches.
  /// Under mpirun or srun each rank encodes its share and every rank receives all codes.
  ///
  /// - Parameter progress: called with the number of cells this process has done and its share.
  public static func cellCodes(
    run: String, data: String, step: Int? = nil, useEMA: Bool = true, progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> CellCodes {
    let (config, nets) = try loadTrainedNetworks(run: RunFolder(path: run), useEMA: useEMA, step: step)
    let cells = try StoreCellSource(path: data)
    try checkShape(config: config, cells: cells, data: data)
    let group = ProcessGroup.world
    let share = group.share(of: cells.cellCount).count
    let codes = try encode(nets, source: cells, transform: config.inputTransform ?? .identity, group: group) { progress($0, share) }
    return try CellCodes(
      name: "styles", values: codes.scalars, dimension: codes.shape[1], geneOfCell: cells.store.geneOfCell,
      batchOfCell: cells.store.batchOfCell, genes: cells.geneNames, batches: cells.batchNames)
  }

  /// The style code of every cell of `data` with what the file records (`grape encode`): the
  /// store's `plate` and `well` fields when it has them, the provenance
  /// (``provenance(run:step:useEMA:data:)``) and the store's control gene. Arguments as for
  /// ``cellCodes(run:data:step:useEMA:progress:)``.
  public static func annotatedCellCodes(
    run: String, data: String, step: Int? = nil, useEMA: Bool = true, progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> (codes: CellCodes, fields: [CellField], provenance: OutputProvenance, control: String?) {
    let step = step ?? newestCheckpointStep(run: run)
    let codes = try cellCodes(run: run, data: data, step: step, useEMA: useEMA, progress: progress)
    let store = try CellStore(path: data)
    return (codes, try store.cellFields(["plate", "well"]), provenance(run: run, step: step, useEMA: useEMA, data: data), store.control)
  }

  /// Checks that a store's crops fit a trained model; the error names the store.
  public static func checkShape(config: GRAPEConfig, cells: StoreCellSource, data: String) throws {
    let expected = [config.inChannels, config.imgSize, config.imgSize]
    guard cells.imageShape == expected else {
      throw GRAPEError.dataMismatch("\(data): crops are \(cells.imageShape) (channels, height, width) but the model was trained on \(expected)")
    }
  }
}
