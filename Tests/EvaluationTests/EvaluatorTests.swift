import Foundation
import Testing

@testable import Evaluation

@Suite("Evaluator and report")
struct EvaluatorTests {
  static let fast = EvaluationOptions(restarts: 10, kRange: 5...20, randomDraws: 2, tsne: false)

  @Test("metrics.json has the contract's keys, nesting and order")
  func schema() throws {
    let complexes = try TestData.corum()
    let e = try TestData.embedding(
      complexes: complexes, dimension: 16, signal: 1.0, controls: 3, dropping: ["LSM5", "COG1"])
    let report = try Evaluator.evaluate(embedding: e, complexes: complexes, options: Self.fast)
    let text = report.metricsJSON().serialized()
    let parsed = try #require(
      try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    #expect(parsed["n_genes"] as? Int == 103)
    #expect(parsed["n_complexes"] as? Int == 14)
    #expect(Set(parsed["missing_genes"] as? [String] ?? []) == ["LSM5", "COG1"])
    let map = try #require(parsed["map"] as? Double)
    #expect(map > 0 && map <= 1)
    let kmeans = try #require(parsed["kmeans"] as? [String: Any])
    #expect(kmeans["k"] as? Int == 14 && kmeans["restarts"] as? Int == 10)
    for metric in ["nmi", "ari", "purity"] {
      let m = try #require(kmeans[metric] as? [String: Any])
      #expect(m["mean"] is Double || m["mean"] is Int)
      #expect(m["std"] is Double || m["std"] is Int)
    }
    let sweep = try #require(parsed["k_sweep"] as? [[String: Any]])
    #expect(sweep.map { $0["k"] as? Int ?? -1 } == Array(5...20))
    for entry in sweep {
      for metric in ["nmi", "ari", "purity"] { #expect(entry[metric] is [String: Any]) }
    }
    #expect(parsed["batch"] == nil)
    #expect(
      Set(parsed["genes_not_in_table"] as? [String] ?? []) == [
        "nontargeting_0", "nontargeting_1", "nontargeting_2",
      ])
    let perGene = try #require(parsed["per_gene_ap"] as? [String: Any])
    #expect(perGene.count == 103 && perGene["nontargeting_0"] == nil)
    // The contract's keys come first, in its order.
    let order = [
      "\"n_genes\"", "\"n_complexes\"", "\"missing_genes\"", "\"map\"", "\"kmeans\"", "\"k_sweep\"",
    ]
    let positions = order.map { text.range(of: $0)?.lowerBound }
    #expect(positions.allSatisfy { $0 != nil })
    #expect(
      zip(positions, positions.dropFirst()).allSatisfy {
        ($0 ?? text.startIndex) < ($1 ?? text.startIndex)
      })
    // Kmeans at k = 14 is the same as the sweep's entry at 14.
    let atK = sweep.first { $0["k"] as? Int == 14 }
    #expect(
      (atK?["nmi"] as? [String: Any])?["mean"] as? Double == (kmeans["nmi"] as? [String: Any])?[
        "mean"] as? Double)
  }

  @Test("cells: batch metrics appear with the contract's keys; per-gene means are evaluated")
  func cellsReport() throws {
    let complexes = try TestData.corum()
    let e = try TestData.embedding(complexes: complexes, dimension: 8, signal: 1.5, controls: 2)
    let cells = try TestData.cells(embedding: e, perGene: 12, batches: 3, batchShift: 0.8)
    var options = Self.fast
    options.kRange = nil
    options.batch.maxCells = 600
    let report = try Evaluator.evaluate(cells: cells, complexes: complexes, options: options)
    let parsed = try #require(
      try JSONSerialization.jsonObject(with: Data(report.metricsJSON().serialized().utf8))
        as? [String: Any])
    let batch = try #require(parsed["batch"] as? [String: Any])
    for key in ["asw", "knn_accuracy", "chance", "graph_connectivity"] {
      #expect(batch[key] is Double, "\(key)")
    }
    #expect(batch["n_cells"] as? Int == cells.count && batch["n_cells_used"] as? Int == 600)
    #expect(batch["subsampled"] as? Bool == true)
    #expect(report.warnings.contains { $0.contains("subsample of 600") })
    #expect(parsed["n_genes"] as? Int == 105)
    #expect((parsed["k_sweep"] as? [Any])?.isEmpty == true)
    #expect(report.projections.cellPCA?.count == 2 * min(cells.count, options.projectedCells))
  }

  @Test("signal beats the random baseline; baselines are evaluated in the same run")
  func baselines() throws {
    let complexes = try TestData.corum()
    let strong = try TestData.embedding(complexes: complexes, dimension: 24, signal: 1.2, seed: 3)
    let weak = try TestData.embedding(complexes: complexes, dimension: 24, signal: 0.0, seed: 4)
    let few = try TestData.embedding(
      complexes: complexes, dimension: 4, signal: 1.0, dropping: Set(complexes.genes.dropFirst(8)),
      seed: 5)
    let report = try Evaluator.evaluate(
      embedding: strong, complexes: complexes,
      baselines: [
        NamedEmbedding(name: "noise", embedding: weak),
        NamedEmbedding(name: "tiny", embedding: few),
      ],
      options: Self.fast)
    let random = try #require(report.random)
    let chance = try #require(report.main.averagePrecision.chanceMeanAveragePrecision)
    #expect(abs(random.map.mean - chance) < 0.05)
    #expect((report.main.map ?? 0) > random.map.mean + 0.3)
    #expect((report.main.kmeans?.nmi.mean ?? 0) > (random.kmeans?.nmi.mean ?? 1) + 0.2)
    #expect(random.kmeans?.restarts == 10)
    #expect(report.baselines.map(\.name) == ["noise", "tiny"])
    #expect(abs((report.baselines[0].map ?? 0) - chance) < 0.06)
    #expect(report.baselines[1].kmeans == nil)
    #expect(report.warnings.contains { $0.contains("tiny") && $0.contains("fewer than k = 14") })
    // The report says which baselines the embedding beats; the noise embedding's own report does not.
    let verdicts = report.baselineVerdicts()
    #expect(verdicts.count == 3)
    #expect(verdicts[0].hasPrefix("Clearly above random") && verdicts[1].hasPrefix("Beats noise"))
    #expect(report.markdown().contains("- Beats noise by mAP"))
    #expect(verdicts[1].contains("paired sign-flip test over") && verdicts[1].contains("p < 0.0001"))
    let paired = try #require(report.pairedComparison(with: report.baselines[0]))
    #expect(paired.pValue < 0.001 && paired.difference > 0.2)
    let noise = try Evaluator.evaluate(
      embedding: weak, complexes: complexes, baselines: [NamedEmbedding(name: "strong", embedding: strong)], options: Self.fast)
    #expect(noise.baselineVerdicts().last?.hasPrefix("Does not beat strong") == true)
    let json = report.metricsJSON()
    guard case .array(let list)? = json["baselines"] else {
      Issue.record("no baselines list")
      return
    }
    #expect(list.count == 3)
  }

  @Test("two runs with one seed give identical reports; another seed changes the k-means runs")
  func determinism() throws {
    let complexes = try TestData.corum()
    let e = try TestData.embedding(complexes: complexes, dimension: 12, signal: 0.8)
    var options = Self.fast
    options.kRange = 12...15
    let a = try Evaluator.evaluate(embedding: e, complexes: complexes, options: options)
    let b = try Evaluator.evaluate(embedding: e, complexes: complexes, options: options)
    #expect(a.metricsJSON() == b.metricsJSON())
    var other = options
    other.seed = 43
    let c = try Evaluator.evaluate(embedding: e, complexes: complexes, options: other)
    #expect(c.main.map == a.main.map)
    #expect(c.main.kmeans?.runs != a.main.kmeans?.runs)
  }

  @Test("report files are written atomically: metrics.json, report.md and figures, no leftovers")
  func output() throws {
    let complexes = try TestData.corum()
    let e = try TestData.embedding(complexes: complexes, dimension: 10, signal: 1.0, controls: 2)
    let cells = try TestData.cells(embedding: e, perGene: 4, batches: 2, batchShift: 1.0)
    var options = Self.fast
    options.kRange = 10...16
    options.tsne = true
    options.tsneIterations = 300
    options.projectedCells = 120
    let report = try Evaluator.evaluate(
      cells: cells, complexes: complexes,
      baselines: [NamedEmbedding(name: "engineered", embedding: e)],
      options: options)
    let dir = try TestData.folder("output").appendingPathComponent("nested/out")
    let files = try report.write(to: dir)
    let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
    #expect(names == Set(files.map(\.lastPathComponent)))
    for required in [
      "metrics.json", "report.md", "genes_pca.svg", "genes_tsne.svg", "kmeans_sweep.svg",
      "cells_pca_batch.svg", "cells_pca_complex.svg", "cells_tsne_batch.svg",
      "cells_tsne_complex.svg",
    ] {
      #expect(names.contains(required), "\(required)")
    }
    #expect(!names.contains { $0.hasPrefix(".") })
    let svg = try String(contentsOf: dir.appendingPathComponent("genes_pca.svg"), encoding: .utf8)
    #expect(svg.hasPrefix("<?xml") && svg.hasSuffix("</svg>\n"))
    #expect(svg.components(separatedBy: "<circle").count - 1 >= 105)
    #expect(svg.contains("Ribosome, cytoplasmic"))
    let md = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
    #expect(
      md.contains("| engineered |") && md.contains("random (2 draws)")
        && md.contains("graph connectivity"))
    // A file in the way of the output folder is a clear error.
    let blocker = try TestData.folder("blocked").appendingPathComponent("file")
    try Data("x".utf8).write(to: blocker)
    #expect(throws: EvaluationError.self) { try report.write(to: blocker) }
  }
}
