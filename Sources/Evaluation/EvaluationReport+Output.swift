import Foundation
import GrapeSupport

extension EvaluationReport {
  /// A figure file of the report.
  struct FigureFile {
    let name: String
    let title: String
  }

  /// The figures this report draws, in report order.
  func figureFiles() -> [FigureFile] {
    var files: [FigureFile] = []
    if projections.genePCA != nil {
      files.append(FigureFile(name: "genes_pca.svg", title: "Genes, PCA, coloured by complex"))
    }
    if projections.geneTSNE != nil {
      files.append(FigureFile(name: "genes_tsne.svg", title: "Genes, t-SNE, coloured by complex"))
    }
    if !main.sweep.isEmpty {
      files.append(FigureFile(name: "kmeans_sweep.svg", title: "NMI, ARI and purity against k"))
    }
    if projections.cellPCA != nil {
      files.append(FigureFile(name: "cells_pca_batch.svg", title: "Cells, PCA, coloured by batch"))
      files.append(
        FigureFile(name: "cells_pca_complex.svg", title: "Cells, PCA, coloured by complex"))
    }
    if projections.cellTSNE != nil {
      files.append(
        FigureFile(name: "cells_tsne_batch.svg", title: "Cells, t-SNE, coloured by batch"))
      files.append(
        FigureFile(name: "cells_tsne_complex.svg", title: "Cells, t-SNE, coloured by complex"))
    }
    return files
  }

  /// Writes `metrics.json`, `report.md` and the SVG figures into `directory` (created if needed);
  /// every file is written under a temporary name and renamed into place.
  ///
  /// - Returns: the files written.
  /// - Throws: `EvaluationError.writeFailed` naming the file.
  @discardableResult
  public func write(to directory: URL) throws -> [URL] {
    try makeDirectory(directory)
    var written: [URL] = []
    func put(_ name: String, _ text: String) throws {
      let url = directory.appendingPathComponent(name)
      do { try AtomicFile.write(text, to: url.path) } catch {
        throw EvaluationError.writeFailed(path: url.path, reason: error.reason)
      }
      written.append(url)
    }
    try put("metrics.json", metricsJSON().serialized() + "\n")
    for (name, svg) in figures() { try put(name, svg) }
    try put("report.md", markdown())
    return written
  }

  /// The SVG documents by file name.
  func figures() -> [(String, String)] {
    var out: [(String, String)] = []
    let names = complexes.complexes.map { id in
      let n = complexes.names[id] ?? id
      return n == id ? id : "\(n) (\(id))"
    }
    let groups = main.genes.map { complexes.complexIndex(of: $0) ?? -1 }
    if let p = projections.genePCA {
      out.append(
        (
          "genes_pca.svg",
          Figures.scatter(
            points: p, groups: groups, groupNames: names, title: "\(main.name): PCA of genes",
            xLabel: "PC 1", yLabel: "PC 2", pointNames: main.genes)
        ))
    }
    if let p = projections.geneTSNE {
      out.append(
        (
          "genes_tsne.svg",
          Figures.scatter(
            points: p, groups: groups, groupNames: names, title: "\(main.name): t-SNE of genes",
            xLabel: "t-SNE 1", yLabel: "t-SNE 2", pointNames: main.genes)
        ))
    }
    if !main.sweep.isEmpty {
      var embeddings: [(String, [ClusteringSummary])] = [(main.name, main.sweep)]
      if let r = random { embeddings.append(("random", r.sweep)) }
      for b in baselines where !b.sweep.isEmpty { embeddings.append((b.name, b.sweep)) }
      func curves(_ metric: (ClusteringSummary) -> MeanStd) -> [Figures.Curve] {
        embeddings.map { name, sweep in
          Figures.Curve(
            name: name, xs: sweep.map { Double($0.k) }, means: sweep.map { metric($0).mean },
            stds: sweep.map { metric($0).std })
        }
      }
      out.append(
        (
          "kmeans_sweep.svg",
          Figures.curvePanels(
            panels: [("NMI", curves(\.nmi)), ("ARI", curves(\.ari)), ("Purity", curves(\.purity))],
            xLabel: "k (clusters)", marker: Double(main.complexCount),
            title: "k-means against k (\(options.restarts) runs per k, ±1 std)")
        ))
    }
    let batchNames = projections.batchNames
    if let p = projections.cellPCA {
      out.append(
        (
          "cells_pca_batch.svg",
          Figures.scatter(
            points: p, groups: projections.cellBatch, groupNames: batchNames,
            title: "Cells (\(projections.cellRows.count) drawn): PCA by batch", xLabel: "PC 1",
            yLabel: "PC 2")
        ))
      out.append(
        (
          "cells_pca_complex.svg",
          Figures.scatter(
            points: p, groups: projections.cellComplex, groupNames: names,
            otherName: "not in table",
            title: "Cells (\(projections.cellRows.count) drawn): PCA by complex", xLabel: "PC 1",
            yLabel: "PC 2")
        ))
    }
    if let p = projections.cellTSNE {
      out.append(
        (
          "cells_tsne_batch.svg",
          Figures.scatter(
            points: p, groups: projections.cellBatch, groupNames: batchNames,
            title: "Cells (\(projections.cellRows.count) drawn): t-SNE by batch", xLabel: "t-SNE 1",
            yLabel: "t-SNE 2")
        ))
      out.append(
        (
          "cells_tsne_complex.svg",
          Figures.scatter(
            points: p, groups: projections.cellComplex, groupNames: names,
            otherName: "not in table",
            title: "Cells (\(projections.cellRows.count) drawn): t-SNE by complex",
            xLabel: "t-SNE 1",
            yLabel: "t-SNE 2")
        ))
    }
    return out
  }
}

/// Creates `url` and its parents as folders if needed.
private func makeDirectory(_ url: URL) throws {
  do { try Folder.create(url.path) } catch { throw EvaluationError.writeFailed(path: url.path, reason: error.reason) }
}
