import Foundation

extension EvaluationReport {
  /// One sentence on whether the embedding is distinguishable from noise by copairs' test.
  public func noiseVerdict() -> String? {
    guard let s = significance, let distinguishable = s.distinguishableFromNoise else { return nil }
    let k = s.perComplex.significantCount
    let total = s.perComplex.groups.count
    let level = f(s.perComplex.threshold)
    if distinguishable {
      let verb = k == 1 ? "is" : "are"
      return
        "Distinguishable from noise: \(k) of \(total) complexes \(verb) retrieved at Benjamini–Hochberg corrected p < \(level) (copairs' permutation test, \(s.nullSize) null draws per configuration)."
    }
    return
      "Not distinguishable from noise: no complex is retrieved at Benjamini–Hochberg corrected p < \(level) (copairs' permutation test, \(s.nullSize) null draws per configuration)."
  }

  /// The section on the field's conventions: significance of retrieval, relationship recall,
  /// phenotypic activity and the scIB-style overall score.
  func conventionsMarkdown() -> String {
    var md = "## Conventions of the field\n\n"
    if let verdict = noiseVerdict() { md += "**\(verdict)**\n\n" }
    md += "| measure | value | chance | definition |\n|---|---:|---:|---|\n"
    if let s = significance {
      md +=
        "| complexes retrieved | \(f(s.fractionComplexesRetrieved)) (\(s.perComplex.significantCount)/\(s.perComplex.groups.count)) | ≤ \(f(s.perComplex.threshold)) | share of complexes whose mAP has corrected p < \(f(s.perComplex.threshold)) (copairs) |\n"
      md +=
        "| genes retrieved | \(f(s.fractionGenesRetrieved)) (\(s.perGene.significantCount)/\(s.perGene.groups.count)) | ≤ \(f(s.perGene.threshold)) | share of genes whose AP has corrected p < \(f(s.perGene.threshold)) |\n"
    }
    if let r = relationshipRecall {
      let q = String(format: "%g", r.thresholdPercentile)
      let upper = String(format: "%g", 100 - r.thresholdPercentile)
      md +=
        "| relationship recall | \(f(r.recall)) | \(f(r.expected)) | share of the \(r.knownPairs) within-complex pairs whose cosine lies below the \(q)th or above the \(upper)th percentile of all pairs (EFAAR) |\n"
      md +=
        "| relationship recall, top tail | \(f(r.recallTop)) | \(f(r.thresholdPercentile / 100)) | share above the \(upper)th percentile alone |\n"
    }
    if let a = activity {
      switch a.method {
      case .cells:
        let tested = a.genes.filter { $0.pCorrected != nil }.count
        let active = a.genes.filter { ($0.pCorrected ?? 1) < a.threshold }.count
        md +=
          "| active genes | \(f(a.fractionActive)) (\(active)/\(tested)) | ≤ \(f(a.threshold)) | genes whose cells are retrieved against \(a.controlProfiles) `\(escape(a.control))` cells at corrected p < \(f(a.threshold)) (copairs' phenotypic activity) |\n"
      case .controlRows:
        let mean = a.genes.isEmpty ? nil : a.genes.map(\.score).reduce(0, +) / Double(a.genes.count)
        if a.fractionActive != nil {
          let active = a.genes.filter { ($0.pCorrected ?? 1) < a.threshold }.count
          md +=
            "| active genes | \(f(a.fractionActive)) (\(active)/\(a.genes.count)) | ≤ \(f(a.threshold)) | genes farther from the mean of the \(a.controlProfiles) `\(escape(a.control))` rows than the control rows are (leave-one-out), at corrected p < \(f(a.threshold)) |\n"
        }
        md +=
          "| mean cosine distance to control | \(f(mean)) | | gene rows against the mean of the \(a.controlProfiles) `\(escape(a.control))` row(s) |\n"
      }
    }
    if let o = overallScore {
      let batchParts = o.batchComponents.map { "\($0.name) \(f($0.value))" }.joined(separator: ", ")
      let bioParts = o.bioComponents.map { "\($0.name) \(f($0.value))" }.joined(separator: ", ")
      md += "| overall score (scIB weights) | \(f(o.overall)) | | 0.4 · batch + 0.6 · bio |\n"
      md += "| batch part | \(f(o.batch)) | | mean of \(batchParts) |\n"
      md += "| bio part | \(f(o.bio)) | | mean of \(bioParts) |\n"
    }
    md += "\n"
    if let a = activity, a.method == .controlRows, a.fractionActive == nil {
      md +=
        "With a single control row there is no null for a gene's distance to it, so no gene is called active; several control rows (`\(escape(a.control))_1`, `\(escape(a.control))_2`, …) or per-cell codes (`--cells`, copairs' phenotypic activity) support a test.\n\n"
    }
    if overallScore != nil {
      md +=
        "knn_mixing = 1 − (kNN batch accuracy − chance) / (1 − chance), clipped to [0, 1]; ARI clipped to [0, 1]; undefined components are left out of their mean.\n\n"
    }
    return md
  }
}
