import ArgumentParser
import Evaluation
import Foundation
import OPSData

/// `grape features --cells-out`: the per-cell engineered features, named by channel.
enum CellFeatureOutput {
  /// Refuses an extension other than .csv, .h5ad and .h5.
  static func validate(_ path: String) throws {
    let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
    guard ["csv", "h5ad", "h5", "hdf5"].contains(ext) else {
      throw ValidationError("--cells-out \(path): the extension must be .csv, .h5ad or .h5")
    }
  }

  /// Writes `rows` (cells × features, store order) with the store's labels: a CSV with
  /// pycytominer's `Metadata_` columns, an AnnData file, or HDF5 with `/features`,
  /// `/feature_names`, `/obs/…`, `/genes`, `/batches` and the provenance (`control`, `channels`).
  static func write(_ rows: [Float], spec: CellFeatureSpec, store: CellStore, data: String, to path: String) throws {
    let names = spec.names(channels: store.channels)
    let codes = try CellCodes(
      name: "features", values: rows, dimension: spec.count, geneOfCell: store.geneOfCell,
      batchOfCell: store.batchOfCell, genes: store.genes, batches: store.batches)
    var provenance = OutputProvenance()
    provenance.set("data", .string(OutputProvenance.absolutePath(data)))
    provenance.set("source", .string("features"))
    provenance.set("channels", .strings(store.channels))
    if let c = store.controlIndex { provenance.set("control", .string(store.genes[c])) }
    provenance.set("n_features", .int(spec.count))
    provenance.set("feature_names", .strings(names))
    try codes.write(
      to: path, fields: try store.cellFields(["plate", "well"]), provenance: provenance,
      controlGene: store.controlIndex.map { store.genes[$0] }, columnNames: names, source: "features")
  }
}
