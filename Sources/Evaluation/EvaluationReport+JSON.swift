import GrapeSupport

extension EvaluationReport {
  /// The content of `metrics.json`: the contract's keys in the contract's order (`n_genes`,
  /// `n_complexes`, `missing_genes`, `map`, `kmeans`, `k_sweep`, and `batch` only for cell
  /// codes), followed by extra keys (`source`, `dimension`, `map_chance`, `genes_not_in_table`,
  /// `per_gene_ap`, `per_complex_map`, `significance`, `relationship_recall`, `activity`,
  /// `overall_score`, `baselines`, `settings`, `warnings`).
  public func metricsJSON() -> JSONValue {
    var pairs: [(String, JSONValue)] = [
      ("n_genes", .int(main.genes.count)),
      ("n_complexes", .int(main.complexCount)),
      ("missing_genes", .array(main.missingGenes.map { .string($0) })),
      ("map", .optional(main.map)),
    ]
    if let s = main.kmeans { pairs.append(("kmeans", Self.kmeansJSON(s))) }
    pairs.append(("k_sweep", .array(main.sweep.map(Self.sweepEntryJSON))))
    if let b = batch { pairs.append(("batch", Self.batchJSON(b))) }
    // Extra keys.
    switch source {
    case .embedding:
      pairs.append(("source", .string("embedding")))
    case .cells(let count, _):
      pairs.append(("source", .string("cells")))
      pairs.append(("n_cells", .int(count)))
    }
    pairs.append(("dimension", .int(main.dimension)))
    pairs.append(("map_chance", .optional(main.averagePrecision.chanceMeanAveragePrecision)))
    pairs.append(("map_queries", .int(main.averagePrecision.perQuery.compactMap { $0 }.count)))
    pairs.append(("genes_not_in_table", .array(main.genesNotInTable.map { .string($0) })))
    pairs.append(
      (
        "per_gene_ap",
        .object(zip(main.genes, main.averagePrecision.perQuery).map { ($0, .optional($1)) })
      ))
    pairs.append(
      (
        "per_complex_map",
        .array(
          perComplexMAP(main).map { entry in
            .object([
              ("complex_id", .string(entry.id)), ("complex_name", .string(entry.name)),
              ("n_genes", .int(entry.genes)), ("map", .optional(entry.map)),
            ])
          })
      ))
    if let sig = significance { pairs.append(("significance", significanceJSON(sig))) }
    if let r = relationshipRecall { pairs.append(("relationship_recall", Self.recallJSON(r))) }
    if let a = activity { pairs.append(("activity", Self.activityJSON(a))) }
    if let o = overallScore { pairs.append(("overall_score", Self.overallJSON(o))) }
    var baselineList: [JSONValue] = []
    if let r = random {
      baselineList.append(Self.randomJSON(r, genes: main.genes.count, dimension: main.dimension))
    }
    for (i, b) in baselines.enumerated() {
      var entry = Self.baselineJSON(
        b, significance: i < baselineSignificance.count ? baselineSignificance[i] : nil)
      if case .object(var fields) = entry, let test = pairedComparison(with: b) {
        fields.append(
          (
            "paired_comparison",
            .object([
              ("method", .string("sign-flip permutation of per-gene AP differences (embedding − baseline)")),
              ("genes", .int(test.genes)), ("map_difference", .number(test.difference)),
              ("p_value", .number(test.pValue)), ("draws", .int(test.draws)),
            ])
          ))
        entry = .object(fields)
      }
      baselineList.append(entry)
    }
    pairs.append(("baselines", .array(baselineList)))
    pairs.append(("settings", settingsJSON()))
    pairs.append(("warnings", .array(warnings.map { .string($0) })))
    return .object(pairs)
  }

  /// Mean AP per complex over its genes that have a hit.
  func perComplexMAP(_ m: CorumMetrics) -> [(id: String, name: String, genes: Int, map: Double?)] {
    var order: [String] = []
    var aps: [String: [Double]] = [:]
    var counts: [String: Int] = [:]
    for (i, c) in m.complexOfGene.enumerated() {
      if counts[c] == nil { order.append(c) }
      counts[c, default: 0] += 1
      if let ap = m.averagePrecision.perQuery[i] { aps[c, default: []].append(ap) }
    }
    let position = Dictionary(
      uniqueKeysWithValues: complexes.complexes.enumerated().map { ($1, $0) })
    order.sort { (position[$0] ?? 0) < (position[$1] ?? 0) }
    return order.map { c in
      let list = aps[c] ?? []
      return (
        c, complexes.names[c] ?? c, counts[c] ?? 0,
        list.isEmpty ? nil : list.reduce(0, +) / Double(list.count)
      )
    }
  }

  func significanceJSON(_ s: RetrievalSignificance) -> JSONValue {
    .object([
      (
        "method",
        .string(
          "copairs mean_average_precision: permutation null per (n_pos, total), Benjamini-Hochberg")
      ),
      ("null_size", .int(s.nullSize)), ("threshold", .number(s.perComplex.threshold)),
      ("seed", .string(String(s.seed))),
      ("fraction_complexes_retrieved", .optional(s.fractionComplexesRetrieved)),
      ("fraction_genes_retrieved", .optional(s.fractionGenesRetrieved)),
      ("n_complexes_retrieved", .int(s.perComplex.significantCount)),
      ("n_complexes_tested", .int(s.perComplex.groups.count)),
      ("n_genes_retrieved", .int(s.perGene.significantCount)),
      ("n_genes_tested", .int(s.perGene.groups.count)),
      ("distinguishable_from_noise", s.distinguishableFromNoise.map { .bool($0) } ?? .null),
      (
        "per_complex",
        .array(
          s.perComplex.groups.map { g in
            .object([
              ("complex", .string(g.name)),
              ("complex_name", .string(complexes.names[g.name] ?? g.name)),
              ("n_queries", .int(g.queries)), ("map", .number(g.map)), ("p", .number(g.p)),
              ("p_corrected", .number(g.pCorrected)),
            ])
          })
      ),
      (
        "per_gene",
        .array(
          s.perGene.groups.map { g in
            .object([
              ("gene", .string(g.name)), ("map", .number(g.map)), ("p", .number(g.p)),
              ("p_corrected", .number(g.pCorrected)),
            ])
          })
      ),
    ])
  }

  static func recallJSON(_ r: RelationshipRecall) -> JSONValue {
    .object([
      ("threshold_percentile", .number(r.thresholdPercentile)), ("recall", .optional(r.recall)),
      ("expected", .number(r.expected)), ("recall_top", .optional(r.recallTop)),
      ("recall_bottom", .optional(r.recallBottom)),
      ("expected_one_sided", .number(r.thresholdPercentile / 100)),
      ("lower_threshold", .number(r.lower)), ("upper_threshold", .number(r.upper)),
      ("n_known_pairs", .int(r.knownPairs)), ("n_pairs", .int(r.pairsForThresholds)),
      ("pairs_sampled", .bool(r.sampled)),
    ])
  }

  static func activityJSON(_ a: PhenotypicActivity) -> JSONValue {
    let tested = a.genes.filter { $0.pCorrected != nil }
    return .object([
      ("method", .string(a.method.rawValue)),
      ("score", .string(a.method == .cells ? "map" : "cosine_distance")),
      ("control", .string(a.control)), ("n_control_profiles", .int(a.controlProfiles)),
      ("null_size", a.nullSize.map { .int($0) } ?? .null), ("threshold", .number(a.threshold)),
      ("fraction_active", .optional(a.fractionActive)),
      ("n_active", .int(tested.filter { ($0.pCorrected ?? 1) < a.threshold }.count)),
      ("n_genes_tested", .int(tested.count)),
      (
        "per_gene",
        .array(
          a.genes.map { g in
            .object([
              ("gene", .string(g.gene)), ("score", .number(g.score)),
              ("n_profiles", .int(g.profiles)),
              ("p", .optional(g.p)), ("p_corrected", .optional(g.pCorrected)),
            ])
          })
      ),
    ])
  }

  static func overallJSON(_ o: OverallScore) -> JSONValue {
    .object([
      ("overall", .optional(o.overall)), ("batch", .optional(o.batch)), ("bio", .optional(o.bio)),
      (
        "weights",
        .object([
          ("batch", .number(OverallScore.batchWeight)), ("bio", .number(OverallScore.bioWeight)),
        ])
      ),
      ("batch_components", .object(o.batchComponents.map { ($0.name, .optional($0.value)) })),
      ("bio_components", .object(o.bioComponents.map { ($0.name, .optional($0.value)) })),
    ])
  }

  static func meanStdJSON(_ s: MeanStd) -> JSONValue {
    .object([("mean", .number(s.mean)), ("std", .number(s.std))])
  }

  static func kmeansJSON(_ s: ClusteringSummary) -> JSONValue {
    .object([
      ("k", .int(s.k)), ("restarts", .int(s.restarts)), ("nmi", meanStdJSON(s.nmi)),
      ("ari", meanStdJSON(s.ari)), ("purity", meanStdJSON(s.purity)),
      ("inertia", meanStdJSON(MeanStd(s.runs.map(\.inertia)))),
    ])
  }

  static func sweepEntryJSON(_ s: ClusteringSummary) -> JSONValue {
    .object([
      ("k", .int(s.k)), ("nmi", meanStdJSON(s.nmi)), ("ari", meanStdJSON(s.ari)),
      ("purity", meanStdJSON(s.purity)),
    ])
  }

  static func batchJSON(_ b: BatchMetrics) -> JSONValue {
    .object([
      ("asw", .optional(b.asw)), ("knn_accuracy", .optional(b.knnAccuracy)),
      ("chance", .number(b.chance)),
      ("graph_connectivity", .optional(b.graphConnectivity)),
      ("chance_uniform", .number(b.chanceUniform)), ("knn_neighbors", .int(b.classifierNeighbors)),
      ("graph_neighbors", .int(b.graphNeighbors)), ("asw_labels", .int(b.aswLabels)),
      ("n_batches", .int(b.batches)), ("n_cells", .int(b.cellsTotal)),
      ("n_cells_used", .int(b.cellsUsed)), ("subsampled", .bool(b.subsampled)),
      ("subsample_seed", b.subsampled ? .string(String(b.seed)) : .null),
    ])
  }

  static func randomJSON(_ r: RandomBaselineMetrics, genes: Int, dimension: Int) -> JSONValue {
    var pairs: [(String, JSONValue)] = [
      ("name", .string("random")), ("n_genes", .int(genes)), ("dimension", .int(dimension)),
      ("draws", .int(r.draws)), ("map", r.mapPerDraw.isEmpty ? .null : .number(r.map.mean)),
      ("map_std", r.mapPerDraw.isEmpty ? .null : .number(r.map.std)),
    ]
    if !r.fractionComplexesRetrieved.isEmpty {
      pairs.append(
        ("fraction_complexes_retrieved", .number(MeanStd(r.fractionComplexesRetrieved).mean)))
      pairs.append(
        (
          "fraction_complexes_retrieved_per_draw",
          .array(r.fractionComplexesRetrieved.map { .number($0) })
        ))
    }
    if let s = r.kmeans { pairs.append(("kmeans", kmeansJSON(s))) }
    pairs.append(("k_sweep", .array(r.sweep.map(sweepEntryJSON))))
    return .object(pairs)
  }

  static func baselineJSON(_ m: CorumMetrics, significance: RetrievalSignificance? = nil)
    -> JSONValue
  {
    var pairs: [(String, JSONValue)] = [
      ("name", .string(m.name)), ("n_genes", .int(m.genes.count)), ("dimension", .int(m.dimension)),
      ("n_complexes", .int(m.complexCount)),
      ("missing_genes", .array(m.missingGenes.map { .string($0) })), ("map", .optional(m.map)),
    ]
    if let sig = significance {
      pairs.append(("fraction_complexes_retrieved", .optional(sig.fractionComplexesRetrieved)))
      pairs.append(("fraction_genes_retrieved", .optional(sig.fractionGenesRetrieved)))
    }
    if let s = m.kmeans { pairs.append(("kmeans", kmeansJSON(s))) }
    pairs.append(("k_sweep", .array(m.sweep.map(sweepEntryJSON))))
    return .object(pairs)
  }

  func settingsJSON() -> JSONValue {
    var pairs: [(String, JSONValue)] = [
      // The seed is a string so that 64-bit seeds survive readers that parse numbers as doubles.
      ("seed", .string(String(options.seed))), ("k", .int(k)), ("restarts", .int(options.restarts)),
      (
        "k_range",
        options.kRange.map { .array([.int($0.lowerBound), .int($0.upperBound)]) } ?? .null
      ),
      ("random_draws", .int(options.randomDraws)), ("max_iter", .int(options.maxIterations)),
      ("tol", .number(options.tolerance)),
      ("kmeans_init", .string("k-means++ (greedy, 2 + floor(ln k) trials)")),
      ("similarity", .string("cosine")),
      ("ap_ties", .string("equal similarity ranked by row order")),
      ("null_size", .int(options.nullSize)), ("threshold", .number(options.significanceThreshold)),
      ("recall_percentile", .number(options.recallPercentile)),
      ("control", .string(options.control ?? PhenotypicActivity.defaultControl)),
    ]
    if batch != nil {
      pairs.append(("max_cells", options.batch.maxCells.map { .int($0) } ?? .null))
    }
    return .object(pairs)
  }
}
