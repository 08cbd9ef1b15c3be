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
    let (config, nets) = try loadTrainedNetworks(run: RunFolder(path: run), useEMA: useEMA, step: step)
    switch source {
    case .styleMean:
      guard let data else { throw GRAPEError.invalidConfig("--source style-mean needs a cell store (--data)") }
      let cells = try StoreCellSource(path: data)
      try checkShape(config: config, cells: cells, data: data)
      let (means, counts) = try styleMeans(
        nets, source: cells, transform: config.inputTransform ?? .identity, normalization: normalization, group: .world)
      let keep = counts.indices.filter { counts[$0] > 0 }
      let rows = means.indexSelect(keep)
      let note = normalization == .controls ? " (standardised per batch by the controls)" : ""
      return try GeneEmbedding(
        genes: keep.map { cells.geneNames[$0] }, values: rows.scalars, dimension: rows.shape[1], source: "grape style-mean \(run)\(note)")
    case .embedding:
      let m = embedding(nets)
      if m.scalars.contains(where: { !$0.isFinite }) {
        throw GRAPEError.invalidRun(
          path: run,
          reason: "the gene embedding of checkpoint \(step.map { "step \($0)" } ?? "latest") holds NaN or infinite values; export an earlier checkpoint (--checkpoint)")
      }
      return try GeneEmbedding(genes: config.genes, values: m.scalars, dimension: m.shape[1], source: "grape embedding \(run)\(useEMA ? "" : " (no EMA)")")
    }
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

  /// Checks that a store's crops fit a trained model; the error names the store.
  public static func checkShape(config: GRAPEConfig, cells: StoreCellSource, data: String) throws {
    let expected = [config.inChannels, config.imgSize, config.imgSize]
    guard cells.imageShape == expected else {
      throw GRAPEError.dataMismatch("\(data): crops are \(cells.imageShape) (channels, height, width) but the model was trained on \(expected)")
    }
  }
}
