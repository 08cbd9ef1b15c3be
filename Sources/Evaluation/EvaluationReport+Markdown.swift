import Foundation

extension EvaluationReport {
  /// One sentence per baseline saying whether the embedding's mAP beats it: clearly above random
  /// means more than two standard deviations of the random draws above their mean; a baseline is
  /// beaten when the mAP is higher and a paired sign-flip test over the shared query genes
  /// (``PairedMAPComparison``) gives p < 0.05, and a higher mAP within chance is reported as level.
  public func baselineVerdicts() -> [String] {
    guard let map = main.map else { return [] }
    var out: [String] = []
    if let r = random, !r.mapPerDraw.isEmpty {
      let bar = r.map.mean + 2 * r.map.std
      out.append(
        map > bar
          ? "Clearly above random: mAP \(f(map)) against \(f(r.map.mean)) ± \(f(r.map.std)) over \(r.draws) random draws."
          : "Not clearly above random: mAP \(f(map)) is within two standard deviations of the random draws (\(f(r.map.mean)) ± \(f(r.map.std)))."
      )
    }
    for b in baselines {
      guard let other = b.map else { continue }
      let test = pairedComparison(with: b)
      let paired = test.map { " (paired sign-flip test over \($0.genes) genes, p \(pFormat($0.pValue)))" } ?? ""
      let figures = "\(f(map)) against \(f(other))"
      if map > other && (test?.pValue ?? 0) < 0.05 {
        out.append("Beats \(b.name) by mAP: \(figures)\(paired).")
      } else if map > other {
        out.append("Does not beat \(b.name) by mAP: \(figures), level within chance\(paired).")
      } else {
        out.append("Does not beat \(b.name) by mAP: \(figures)\(paired).")
      }
    }
    return out
  }

  /// The embedding's mAP against baseline `b`, paired over their shared query genes (seeded by
  /// the evaluation's seed).
  public func pairedComparison(with b: CorumMetrics) -> PairedMAPComparison? {
    PairedMAPComparison.compare(main, b, seed: options.seed ^ 0x5_1F_F11B)
  }

  /// A p-value as the report prints it after "p": `= 0.0123` (three significant digits), or
  /// `< 0.0001` below that.
  func pFormat(_ p: Double) -> String {
    p < 1e-4 ? "< 0.0001" : "= " + String(format: "%.3g", p)
  }

  /// The readable summary written to `report.md`: headline table with baselines, the field's
  /// conventions (significance, relationship recall, phenotypic activity, overall score), batch
  /// metrics, per-complex mAP, the k sweep, figures and warnings.
  public func markdown() -> String {
    var md = "# Evaluation report\n\n"
    switch source {
    case .embedding:
      md +=
        "Gene embedding `\(main.name)`: \(main.genes.count) evaluated genes × \(main.dimension) dimensions"
    case .cells(let count, let dimension):
      md +=
        "Cell codes: \(count) cells × \(dimension) dimensions; CORUM metrics on the per-gene mean "
      md += "(\(main.genes.count) evaluated genes)"
    }
    md += ", \(main.complexCount) complexes of the table (\(complexes.complexCount) listed).\n"
    md += "k-means: k = \(k), \(options.restarts) restarts per k, seed \(options.seed).\n\n"
    if !main.missingGenes.isEmpty {
      md +=
        "Missing genes (in the table, not in the embedding): \(main.missingGenes.joined(separator: ", ")).\n\n"
    }
    if !main.genesNotInTable.isEmpty {
      let shown = main.genesNotInTable.prefix(30).joined(separator: ", ")
      let more = main.genesNotInTable.count > 30 ? ", … (\(main.genesNotInTable.count) in all)" : ""
      md += "Left out (not in the table): \(shown)\(more).\n\n"
    }

    md += "## CORUM metrics\n\n"
    let tested = significance != nil
    md += "| embedding | genes | d | mAP |" + (tested ? " complexes retrieved |" : "")
    md +=
      " NMI | ARI | Purity |\n|---|---:|---:|---:|" + (tested ? "---:|" : "") + "---:|---:|---:|\n"
    func retrieved(_ s: RetrievalSignificance?) -> String? {
      guard tested else { return nil }
      guard let s, !s.perComplex.groups.isEmpty else { return "–" }
      return "\(s.perComplex.significantCount)/\(s.perComplex.groups.count)"
    }
    md += row(
      main.name, genes: main.genes.count, dimension: main.dimension, map: f(main.map),
      retrieved: retrieved(significance), main.kmeans)
    if let r = random {
      let map = r.mapPerDraw.isEmpty ? "–" : "\(f(r.map.mean)) ± \(f(r.map.std))"
      let tests = significance?.perComplex.groups.count ?? 0
      let share =
        r.fractionComplexesRetrieved.isEmpty
        ? "–"
        : String(format: "%.1f", MeanStd(r.fractionComplexesRetrieved).mean * Double(tests))
          + "/\(tests) (mean)"
      md += row(
        "random (\(r.draws) draws)", genes: main.genes.count, dimension: main.dimension, map: map,
        retrieved: tested ? share : nil, r.kmeans)
    }
    for (i, b) in baselines.enumerated() {
      let sig = i < baselineSignificance.count ? baselineSignificance[i] : nil
      md += row(
        b.name, genes: b.genes.count, dimension: b.dimension, map: f(b.map),
        retrieved: retrieved(sig), b.kmeans)
    }
    let verdicts = baselineVerdicts()
    if !verdicts.isEmpty { md += "\n" + verdicts.map { "- \($0)\n" }.joined() }
    if tested {
      md +=
        "\nComplexes retrieved: complexes whose mAP has Benjamini–Hochberg corrected p < \(f(options.significanceThreshold)) in copairs' permutation test (for the random draws, the mean over draws)."
    }
    md +=
      "\nNMI, ARI and purity: mean ± standard deviation over \(options.restarts) k-means runs at k = \(k). "
    md +=
      "Expected mAP of a random ranking for these complexes: \(f(main.averagePrecision.chanceMeanAveragePrecision)).\n\n"

    md += conventionsMarkdown()

    if let b = batch {
      md += "## Batch effects (cells)\n\n"
      md += "| metric | value | best |\n|---|---:|---|\n"
      md +=
        "| batch ASW (scIB, 1 − \\|silhouette\\| of batches within genes) | \(f(b.asw)) | 1 (batches mixed) |\n"
      md +=
        "| kNN batch accuracy (leave-one-out, k = \(b.classifierNeighbors)) | \(f(b.knnAccuracy)) | chance |\n"
      md += "| chance (most frequent batch) | \(f(b.chance)) | |\n"
      md += "| chance (1 / \(b.batches) batches) | \(f(b.chanceUniform)) | |\n"
      md +=
        "| graph connectivity (kNN graph, \(b.graphNeighbors) neighbours) | \(f(b.graphConnectivity)) | 1 |\n"
      md += "\nCells measured: \(b.cellsUsed) of \(b.cellsTotal)"
      md += b.subsampled ? " (seeded subsample, seed \(b.seed)).\n\n" : ".\n\n"
      md +=
        "Batch ASW and kNN batch accuracy can disagree: ASW measures how far the batches separate as clusters within each gene's cells (a cluster-level, per-gene view), while kNN accuracy measures how often a cell's nearest neighbours, of any gene, come from its own batch (local neighbourhood purity). "
      md +=
        "A small batch shift that leaves each gene's cells overlapping keeps ASW near 1 yet can still make neighbourhoods batch-pure, and genes that differ in batch composition can raise kNN accuracy without any within-gene separation.\n\n"
    }

    let tests = Dictionary(
      uniqueKeysWithValues: (significance?.perComplex.groups ?? []).map { ($0.name, $0) })
    md += "## mAP per complex\n\n"
    if significance != nil {
      md += "p: copairs' permutation test; corrected: Benjamini–Hochberg over complexes.\n\n"
      md += "| complex | name | genes | mAP | p | corrected p |\n|---|---|---:|---:|---:|---:|\n"
    } else {
      md += "| complex | name | genes | mAP |\n|---|---|---:|---:|\n"
    }
    for e in perComplexMAP(main) {
      md += "| \(e.id) | \(escape(e.name)) | \(e.genes) | \(f(e.map)) |"
      if significance != nil {
        let t = tests[e.id]
        md += " \(p(t?.p)) | \(p(t?.pCorrected)) |"
      }
      md += "\n"
    }
    md += "\n"
    if !main.sweep.isEmpty {
      md += "## k sweep\n\nMean ± standard deviation over \(options.restarts) runs per k.\n\n"
      var columns: [(String, [ClusteringSummary])] = [(main.name, main.sweep)]
      if let r = random { columns.append(("random", r.sweep)) }
      for b in baselines { columns.append((b.name, b.sweep)) }
      let metrics: [(String, (ClusteringSummary) -> MeanStd)] = [
        ("NMI", { $0.nmi }), ("ARI", { $0.ari }), ("Purity", { $0.purity }),
      ]
      for (title, metric) in metrics {
        md +=
          "### \(title)\n\n| k | " + columns.map { escape($0.0) }.joined(separator: " | ") + " |\n"
        md += "|---:|" + String(repeating: "---:|", count: columns.count) + "\n"
        for s in main.sweep {
          let cells = columns.map { column in
            column.1.first { $0.k == s.k }.map { pm(metric($0)) } ?? "–"
          }
          md += "| \(s.k) | " + cells.joined(separator: " | ") + " |\n"
        }
        md += "\n"
      }
      md += "![k sweep](kmeans_sweep.svg)\n\n"
    }

    md += "## Figures\n\n"
    for file in figureFiles() { md += "- [\(file.title)](\(file.name))\n" }
    if !warnings.isEmpty {
      md += "\n## Warnings\n\n"
      for w in warnings { md += "- \(escape(w))\n" }
    }
    return md
  }

  private func row(
    _ name: String, genes: Int, dimension: Int, map: String, retrieved: String?,
    _ s: ClusteringSummary?
  ) -> String {
    let column = retrieved.map { " \($0) |" } ?? ""
    return
      "| \(escape(name)) | \(genes) | \(dimension) | \(map) |\(column) \(pm(s?.nmi)) | \(pm(s?.ari)) | \(pm(s?.purity)) |\n"
  }

  /// A p-value: three significant digits, `<1e-4`-style below 0.001.
  func p(_ v: Double?) -> String {
    guard let v, v.isFinite else { return "–" }
    return v < 0.001 ? String(format: "%.1e", v) : String(format: "%.3f", v)
  }

  private func pm(_ s: MeanStd?) -> String {
    guard let s else { return "–" }
    return "\(f(s.mean)) ± \(f(s.std))"
  }

  func f(_ v: Double?) -> String {
    guard let v, v.isFinite else { return "–" }
    // Avoid "-0.000" for tiny negative values.
    return String(format: "%.3f", abs(v) < 0.0005 ? 0 : v)
  }

  func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "|", with: "\\|")
  }
}
