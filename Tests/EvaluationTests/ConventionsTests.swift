import Foundation
import GrapeSupport
import OPSData
import Testing

@testable import Evaluation

/// The field's conventions beside GRAPE's mAP: copairs' significance, the phenotypic activity,
/// the EFAAR relationship recall and the scIB overall score.
@Suite("Evaluation conventions")
struct ConventionsTests {
  /// Monte-Carlo tolerance of a p-value estimated twice from `n` independent null draws: five
  /// standard errors of the difference plus the `1 / (n + 1)` floor.
  static func tolerance(_ p: Double, draws n: Int) -> Double {
    5 * (2 * max(p, 1e-3) * (1 - p) / Double(n)).squareRoot() + 2 / Double(n + 1)
  }

  // MARK: - Null and correction on hand-computable cases

  @Test("null of one positive among three: APs 1, 1/2, 1/3 equally often")
  func nullOneOfThree() {
    let draws = Significance.nullAveragePrecisions(
      Significance.Configuration(positives: 1, total: 3), draws: 6_000, seed: 7)
    for value in [1.0, 0.5, 1.0 / 3] {
      let share = Double(draws.filter { abs($0 - value) < 1e-12 }.count) / 6_000
      #expect(abs(share - 1.0 / 3) < 0.03, "AP \(value): \(share)")
    }
    // Observed AP 1: no null draw exceeds it, so p = 1 / (n + 1) exactly.
    let top = Significance.groupSignificance(
      averagePrecisions: [1], configurations: [Significance.Configuration(positives: 1, total: 3)],
      groups: [0], names: ["g"], nullSize: 6_000, seed: 7)
    #expect(top.groups[0].p == 1.0 / 6_001)
    // Observed AP 1/3: two thirds of the draws exceed it.
    let bottom = Significance.groupSignificance(
      averagePrecisions: [1.0 / 3],
      configurations: [Significance.Configuration(positives: 1, total: 3)], groups: [0],
      names: ["g"], nullSize: 6_000, seed: 7)
    #expect(abs(bottom.groups[0].p - 2.0 / 3) < 0.03)
  }

  @Test("the null's mean is the closed-form expected AP of a random ranking")
  func nullMean() {
    for (m, t) in [(3, 20), (1, 50), (9, 10)] {
      let draws = Significance.nullAveragePrecisions(
        Significance.Configuration(positives: m, total: t), draws: 20_000, seed: 3)
      let mean = draws.reduce(0, +) / Double(draws.count)
      let sd = (draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count))
        .squareRoot()
      let expected = AveragePrecision.expectedRandomAveragePrecision(hits: m, candidates: t)
      #expect(abs(mean - expected) < 5 * sd / 141.4 + 1e-12, "(\(m), \(t)): \(mean) vs \(expected)")
    }
  }

  @Test("queries of one configuration share their draws, as in copairs")
  func sharedDraws() {
    // Two queries of the same configuration: the group's null is that configuration's null, so
    // the group's p equals the p of one query with the group's mean AP.
    let c = Significance.Configuration(positives: 2, total: 9)
    let pair = Significance.groupSignificance(
      averagePrecisions: [0.9, 0.5], configurations: [c, c], groups: [0, 0], names: ["g"],
      nullSize: 2_000, seed: 11)
    let single = Significance.groupSignificance(
      averagePrecisions: [0.7], configurations: [c], groups: [0], names: ["g"], nullSize: 2_000,
      seed: 11)
    #expect(pair.groups[0].map == 0.7)
    #expect(pair.groups[0].p == single.groups[0].p)
    #expect(pair.groups[0].queries == 2)
  }

  @Test("Benjamini–Hochberg by hand")
  func benjaminiHochberg() {
    // Sorted 0.01, 0.03, 0.04, 0.5: n p / rank = 0.04, 0.06, 0.0533, 0.5; running minimum from
    // the top gives 0.04, 0.0533, 0.0533, 0.5.
    let q = Significance.benjaminiHochberg([0.01, 0.04, 0.03, 0.5])
    let expected = [0.04, 0.16 / 3, 0.16 / 3, 0.5]
    for (a, b) in zip(q, expected) { #expect(abs(a - b) < 1e-12) }
    #expect(Significance.benjaminiHochberg([0.9, 0.8]) == [0.9, 0.9])
    #expect(Significance.benjaminiHochberg([]) == [])
  }

  // MARK: - copairs reference

  static func retrievalFixture() throws -> (
    case: [String: Any], embedding: GeneEmbedding, complexes: ComplexAssignment
  ) {
    let c = try #require(try Fixture.load("copairs.json")["retrieval"] as? [String: Any])
    let genes = try #require(c["genes"] as? [String])
    let ids = try #require(c["complexes"] as? [String])
    let embedding = try GeneEmbedding(
      genes: genes, values: try c.floats("values"), dimension: try c.int("dimension"),
      input: "fixture")
    let inTable = genes.indices.filter { !ids[$0].isEmpty }
    let complexes = try ComplexAssignment(
      genes: inTable.map { genes[$0] }, complexIDs: inTable.map { ids[$0] })
    return (c, embedding, complexes)
  }

  static let quick = EvaluationOptions(
    restarts: 2, kRange: nil, randomDraws: 0, projections: false, tsne: false)

  @Test("per-complex and per-gene mAP match copairs exactly, p-values within Monte-Carlo error")
  func copairsRetrieval() throws {
    let (c, embedding, complexes) = try Self.retrievalFixture()
    let report = try Evaluator.evaluate(
      embedding: embedding, complexes: complexes, options: Self.quick)
    let s = try #require(report.significance)
    let draws = try c.int("null_size")
    #expect(s.nullSize == draws)
    let reference = try #require(c["per_complex"] as? [[String: Any]])
    let ours = Dictionary(uniqueKeysWithValues: s.perComplex.groups.map { ($0.name, $0) })
    #expect(ours.count == reference.count)
    for r in reference {
      let g = try #require(ours[r.string("complex")])
      #expect(abs(g.map - (try r.double("map"))) < 1e-9, "\(g.name) mAP")
      let p = try r.double("p")
      #expect(abs(g.p - p) < Self.tolerance(p, draws: draws), "\(g.name) p \(g.p) vs \(p)")
      let q = try r.double("p_corrected")
      #expect(abs(g.pCorrected - q) < 6 * Self.tolerance(p, draws: draws), "\(g.name) corrected")
    }
    #expect(s.fractionComplexesRetrieved == (try c.double("fraction_complexes_retrieved")))
    let genes = try #require(c["per_gene"] as? [[String: Any]])
    let oursByGene = Dictionary(uniqueKeysWithValues: s.perGene.groups.map { ($0.name, $0) })
    #expect(oursByGene.count == genes.count)
    for r in genes {
      let g = try #require(oursByGene[r.string("gene")])
      #expect(abs(g.map - (try r.double("map"))) < 1e-9, "\(g.name) AP")
      let p = try r.double("p")
      #expect(abs(g.p - p) < Self.tolerance(p, draws: draws), "\(g.name) p \(g.p) vs \(p)")
    }
    let genesRetrieved = try #require(s.fractionGenesRetrieved)
    #expect(
      abs(genesRetrieved - (try c.double("fraction_genes_retrieved"))) <= 2.0 / Double(genes.count)
        + 1e-12)
  }

  @Test("Benjamini–Hochberg of copairs' p-values gives copairs' corrected p-values")
  func copairsCorrection() throws {
    let (c, _, _) = try Self.retrievalFixture()
    for key in ["per_complex", "per_gene"] {
      let rows = try #require(c[key] as? [[String: Any]])
      let q = Significance.benjaminiHochberg(try rows.map { try $0.double("p") })
      for (r, value) in zip(rows, q) {
        #expect(abs(value - (try r.double("p_corrected"))) < 1e-12)
      }
    }
  }

  @Test("phenotypic activity of cells matches copairs")
  func copairsActivity() throws {
    let c = try #require(try Fixture.load("copairs.json")["activity"] as? [String: Any])
    let cellGenes = try #require(c["cell_genes"] as? [String])
    var names: [String] = []
    for g in cellGenes where !names.contains(g) { names.append(g) }
    let codes = try LabeledCodes(
      values: try c.floats("values"), dimension: try c.int("dimension"),
      geneIndex: cellGenes.map { g in names.firstIndex(of: g) ?? 0 }, geneNames: names,
      batchIndex: cellGenes.map { _ in 0 }, batchNames: ["all"])
    let draws = try c.int("null_size")
    let a = try #require(
      PhenotypicActivity.fromCells(codes, control: c.string("control"), nullSize: draws, seed: 5))
    #expect(a.method == .cells && a.controlProfiles == 14)
    let reference = try #require(c["per_gene"] as? [[String: Any]])
    #expect(a.genes.count == reference.count)
    for r in reference {
      let g = try #require(a.genes.first { $0.gene == r.string("gene") })
      #expect(abs(g.score - (try r.double("map"))) < 1e-9, "\(g.gene) mAP")
      let p = try r.double("p")
      let ours = try #require(g.p)
      #expect(abs(ours - p) < Self.tolerance(p, draws: draws), "\(g.gene) p \(ours) vs \(p)")
    }
    #expect(a.fractionActive == (try c.double("fraction_active")))
  }

  @Test("relationship recall matches numpy's percentiles on the fixture")
  func recallFixture() throws {
    let (_, embedding, complexes) = try Self.retrievalFixture()
    let r = try #require(try Fixture.load("copairs.json")["recall"] as? [String: Any])
    let report = try Evaluator.evaluate(
      embedding: embedding, complexes: complexes, options: Self.quick)
    let ours = try #require(report.relationshipRecall)
    #expect(abs(ours.lower - (try r.double("lower"))) < 1e-9)
    #expect(abs(ours.upper - (try r.double("upper"))) < 1e-9)
    #expect(ours.knownPairs == (try r.int("pairs")))
    #expect(ours.recall == (try r.double("recall")))
    #expect(ours.recallTop == (try r.double("recall_top")))
  }

  // MARK: - Hand-computable cases

  @Test("relationship recall by hand: four genes, two known pairs")
  func recallByHand() {
    // Angles 0°, 10°, 90°, 180°; pairs' cosines sorted: −1, −cos 10°, 0, 0, sin 10°, cos 10°.
    // Lower threshold at position 0.25: −1 + 0.25 (1 − cos 10°); upper at position 4.75:
    // sin 10° + 0.75 (cos 10° − sin 10°). Known pairs {0°, 10°} (cos 10°, above) and
    // {90°, 180°} (0, inside): recall 1/2, all of it in the top tail.
    let values = AveragePrecisionTests.angles([0, 10, 90, 180])
    let r = RelationshipRecall.compute(
      values: values, count: 4, dimension: 2, labels: [0, 0, 1, 1])
    let c10 = cos(10 * Double.pi / 180)
    let s10 = sin(10 * Double.pi / 180)
    #expect(abs(r.lower - (-1 + 0.25 * (1 - c10))) < 1e-6)
    #expect(abs(r.upper - (s10 + 0.75 * (c10 - s10))) < 1e-6)
    #expect(r.knownPairs == 2 && r.recall == 0.5 && r.recallTop == 0.5 && r.recallBottom == 0)
    #expect(abs(r.expected - 0.1) < 1e-12)
  }

  @Test("activity of gene rows against control rows by hand")
  func controlRows() throws {
    // Three identical control rows: every leave-one-out distance is 0. A is orthogonal to them
    // (distance 1, beaten by no control: p = 1/4); B lies on them (distance 0, p = 4/4).
    let e = try GeneEmbedding(
      genes: ["nontargeting_1", "A", "nontargeting_2", "B", "nontargeting_3"],
      values: [1, 0, 0, 1, 2, 0, 3, 0, 1, 0], dimension: 2, input: "rows")
    let a = try #require(PhenotypicActivity.fromControlRows(e, control: "nontargeting"))
    #expect(a.method == .controlRows && a.controlProfiles == 3)
    #expect(a.genes.map(\.gene) == ["A", "B"])
    #expect(abs(a.genes[0].score - 1) < 1e-12 && abs(a.genes[1].score) < 1e-12)
    #expect(a.genes[0].p == 0.25 && a.genes[1].p == 1)
    // Benjamini–Hochberg: 0.25 · 2 / 1 = 0.5 and 1.
    #expect(a.genes[0].pCorrected == 0.5 && a.genes[1].pCorrected == 1)
    #expect(a.fractionActive == 0)
    // One control row: distances only.
    let one = try GeneEmbedding(
      genes: ["nontargeting", "A"], values: [1, 0, 0, 2], dimension: 2, input: "one")
    let b = try #require(PhenotypicActivity.fromControlRows(one, control: "nontargeting"))
    #expect(b.genes.count == 1 && b.genes[0].p == nil && b.fractionActive == nil)
    #expect(PhenotypicActivity.fromControlRows(one, control: "NTC") == nil)
  }

  @Test("activity of cells by hand: a gene whose cells sit apart from the controls")
  func activityByHand() throws {
    // Gene A's two cells point along x, the three control cells along y: each A cell ranks the
    // other A cell first, AP 1, so mAP 1 and p = 1 / (n + 1) (no random ranking beats 1).
    let codes = try LabeledCodes(
      values: [1, 0.1, 1, -0.1, 0, 1, 0.1, 1, -0.1, 1], dimension: 2,
      geneIndex: [0, 0, 1, 1, 1], geneNames: ["A", "nontargeting"], batchIndex: [0, 0, 0, 0, 0],
      batchNames: ["b"])
    let a = try #require(
      PhenotypicActivity.fromCells(codes, control: "nontargeting", nullSize: 999))
    #expect(a.genes.count == 1 && a.genes[0].score == 1 && a.genes[0].profiles == 2)
    #expect(a.genes[0].p == 1.0 / 1_000)
    #expect(a.fractionActive == 1)
    #expect(PhenotypicActivity.fromCells(codes, control: "NTC", nullSize: 10) == nil)
  }

  @Test("kNN accuracy as a mixing score")
  func mixingScore() {
    #expect(OverallScore.mixingScore(accuracy: 0.25, chance: 0.25) == 1)
    #expect(OverallScore.mixingScore(accuracy: 1, chance: 0.25) == 0)
    #expect(OverallScore.mixingScore(accuracy: 0.625, chance: 0.25) == 0.5)
    #expect(OverallScore.mixingScore(accuracy: 0.1, chance: 0.25) == 1)
  }

  @Test("the overall score is 0.4 · batch + 0.6 · bio over the listed components")
  func overallScore() throws {
    let complexes = try TestData.corum()
    let e = try TestData.embedding(complexes: complexes, dimension: 8, signal: 1.5)
    let cells = try TestData.cells(embedding: e, perGene: 4, batches: 3, batchShift: 0.5)
    var options = Self.quick
    options.nullSize = 200
    let report = try Evaluator.evaluate(cells: cells, complexes: complexes, options: options)
    let o = try #require(report.overallScore)
    let b = try #require(report.batch)
    let km = try #require(report.main.kmeans)
    let mixing = OverallScore.mixingScore(accuracy: try #require(b.knnAccuracy), chance: b.chance)
    let batch = (try #require(b.asw) + (try #require(b.graphConnectivity)) + mixing) / 3
    let bio = (try #require(report.main.map) + km.nmi.mean + min(1, max(0, km.ari.mean))) / 3
    #expect(o.batchComponents.map(\.name) == ["asw", "graph_connectivity", "knn_mixing"])
    #expect(o.bioComponents.map(\.name) == ["map", "nmi", "ari"])
    #expect(abs((o.batch ?? -1) - batch) < 1e-12 && abs((o.bio ?? -1) - bio) < 1e-12)
    #expect(abs((o.overall ?? -1) - (0.4 * batch + 0.6 * bio)) < 1e-12)
    let json = report.metricsJSON()
    #expect(json["overall_score"]?["overall"] != nil)
    #expect(report.markdown().contains("overall score (scIB weights)"))
    #expect(report.markdown().contains("local neighbourhood purity"))
  }

  @Test(
    "metrics.json keeps the contract's keys and adds the conventions; the report says whether it beats noise"
  )
  func outputs() throws {
    let (_, embedding, complexes) = try Self.retrievalFixture()
    var options = Self.quick
    options.kRange = 2...4
    options.nullSize = 500
    options.randomDraws = 2
    let report = try Evaluator.evaluate(
      embedding: embedding, complexes: complexes,
      baselines: [NamedEmbedding(name: "copy", embedding: embedding)], options: options)
    // A baseline is tested against the same null: the same embedding gives the same p-values.
    #expect(report.baselineSignificance.first == report.significance)
    #expect(report.random?.fractionComplexesRetrieved.count == 2)
    let json = report.metricsJSON()
    guard case .object(let pairs) = json else {
      Issue.record("metrics.json is not an object")
      return
    }
    let keys = pairs.map(\.0)
    #expect(
      Array(keys.prefix(6)) == [
        "n_genes", "n_complexes", "missing_genes", "map", "kmeans", "k_sweep",
      ])
    for key in ["significance", "relationship_recall"] { #expect(keys.contains(key)) }
    #expect(!keys.contains("overall_score") && !keys.contains("batch"))
    let sig = try #require(json["significance"])
    for key in [
      "null_size", "fraction_complexes_retrieved", "fraction_genes_retrieved", "per_complex",
      "per_gene",
    ] {
      #expect(sig[key] != nil, "significance.\(key)")
    }
    #expect(json["relationship_recall"]?["expected"] == .number(0.1))
    guard case .array(let listed) = json["baselines"] else {
      Issue.record("no baselines list")
      return
    }
    #expect(listed.count == 2 && listed.allSatisfy { $0["fraction_complexes_retrieved"] != nil })
    let md = report.markdown()
    #expect(
      md.contains("Distinguishable from noise") || md.contains("Not distinguishable from noise"))
    let perComplex = try #require(md.range(of: "## mAP per complex"))
    let sweep = try #require(md.range(of: "## k sweep"))
    let conventions = try #require(md.range(of: "## Conventions of the field"))
    #expect(
      conventions.lowerBound < perComplex.lowerBound && perComplex.lowerBound < sweep.lowerBound)
  }

  @Test("legends keep long complex names whole, wrapped inside the canvas")
  func legendWrap() {
    let long = "Mediator complex, large subunit assembly with several cofactors (CORUM 1234)"
    let svg = Figures.scatter(
      points: [0, 0, 1, 1], groups: [0, 1], groupNames: [long, "short"], title: "t", xLabel: "x",
      yLabel: "y")
    #expect(!svg.contains("…"))
    let lines = Figures.wrap(long, 48)
    #expect(lines.allSatisfy { $0.count <= 48 } && lines.joined(separator: " ") == long)
    #expect(svg.contains(lines[0]) && svg.contains(lines[1]))
  }
}
