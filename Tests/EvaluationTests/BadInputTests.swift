import GrapeSupport
import OPSData
import Foundation
import Testing

@testable import Evaluation

@Suite("Bad input")
struct BadInputTests {
  @Test("duplicated gene names are an error naming the gene and rows")
  func duplicateGenes() {
    #expect(throws: EvaluationError.duplicateGene(input: "emb.h5", gene: "PSMA5", rows: [0, 2])) {
      try GeneEmbedding(
        genes: ["PSMA5", "TCP1", "PSMA5"], values: [1, 2, 3], dimension: 1, input: "emb.h5")
    }
    let message = EvaluationError.duplicateGene(input: "emb.h5", gene: "PSMA5", rows: [0, 2])
      .description
    #expect(message.contains("emb.h5") && message.contains("PSMA5") && message.contains("0, 2"))
  }

  @Test("NaN or infinite values are an error naming the row, gene and column")
  func nonFinite() {
    #expect(
      throws: EvaluationError.nonFiniteValue(input: "embedding", row: 1, label: "B", column: 1)
    ) {
      try GeneEmbedding(genes: ["A", "B"], values: [0, 1, 2, .nan], dimension: 2, input: "embedding")
    }
    #expect(throws: EvaluationError.nonFiniteValue(input: "cells", row: 2, label: "g1", column: 0))
    {
      try LabeledCodes(
        values: [0, 1, .infinity], dimension: 1, geneIndex: [0, 1, 1], geneNames: ["g0", "g1"],
        batchIndex: [0, 0, 0], batchNames: ["b"])
    }
  }

  @Test("d = 0, empty input and shape mismatches are errors")
  func shapes() {
    #expect(throws: EvaluationError.emptyDimension(input: "embedding")) {
      try GeneEmbedding(genes: ["A"], values: [], dimension: 0, input: "embedding")
    }
    #expect(throws: EvaluationError.emptyInput(input: "embedding")) {
      try GeneEmbedding(genes: [], values: [], dimension: 3, input: "embedding")
    }
    #expect(throws: EvaluationError.shapeMismatch(input: "embedding", expected: 4, got: 3)) {
      try GeneEmbedding(genes: ["A", "B"], values: [1, 2, 3], dimension: 2, input: "embedding")
    }
    #expect(
      throws: EvaluationError.labelOutOfRange(
        input: "cells", field: "batch", row: 1, value: 3, count: 1)
    ) {
      try LabeledCodes(
        values: [0, 1], dimension: 1, geneIndex: [0, 0], geneNames: ["g"], batchIndex: [0, 3],
        batchNames: ["b"])
    }
    #expect(
      throws: EvaluationError.labelCountMismatch(
        input: "cells", field: "batch", expected: 2, got: 1)
    ) {
      try LabeledCodes(
        values: [0, 1], dimension: 1, geneIndex: [0, 0], geneNames: ["g"], batchIndex: [0],
        batchNames: ["b"])
    }
  }

  @Test("no gene in the table is an error that shows the embedding's genes")
  func noMatch() throws {
    let complexes = try TestData.corum()
    let e = try GeneEmbedding(
      genes: ["rpl10a", "psma5"], values: [1, 2, 3, 4], dimension: 2, input: "lower.tsv")
    #expect(
      throws: EvaluationError.noGenesInTable(
        input: "lower.tsv", embeddingGenes: 2, examples: ["rpl10a", "psma5"])
    ) {
      try Evaluator.evaluate(embedding: e, complexes: complexes, name: "lower.tsv")
    }
  }

  @Test("fewer evaluated genes than k is an error; the sweep skips k above n with a warning")
  func fewGenes() throws {
    let complexes = try TestData.corum()
    let keep = Set(complexes.genes.prefix(12))
    let e = try TestData.embedding(
      complexes: complexes, dimension: 4, signal: 1,
      dropping: Set(complexes.genes).subtracting(keep))
    var options = EvaluationOptions(
      k: 14, restarts: 3, kRange: 5...30, randomDraws: 1, projections: false)
    #expect(throws: EvaluationError.tooFewGenes(input: "embedding", k: 14, genes: 12)) {
      try Evaluator.evaluate(embedding: e, complexes: complexes, options: options)
    }
    options.k = nil  // 12 genes in 2 complexes → k = 2
    let report = try Evaluator.evaluate(embedding: e, complexes: complexes, options: options)
    #expect(report.k == 2 && report.main.kmeans?.k == 2)
    #expect(report.main.sweep.map(\.k) == Array(5...12))
    #expect(report.warnings.contains { $0.contains("k sweep limited to k ≤ 12") })
    #expect(report.main.missingGenes.count == 105 - 12)
  }

  @Test("invalid options are errors naming the flag")
  func options() throws {
    let complexes = try TestData.corum()
    let e = try TestData.embedding(complexes: complexes, dimension: 4, signal: 1)
    for (options, flag) in [
      (EvaluationOptions(k: 0), "--k"), (EvaluationOptions(restarts: 0), "--restarts"),
      (EvaluationOptions(kRange: 0...3), "--k-range"),
      (EvaluationOptions(randomDraws: -1), "--random-draws"),
    ] {
      do {
        _ = try Evaluator.evaluate(embedding: e, complexes: complexes, options: options)
        Issue.record("\(flag) accepted")
      } catch let error as EvaluationError {
        #expect(error.description.contains(flag))
      }
    }
  }

  @Test("complexes table: conflicting complex is an error, repeated rows a warning")
  func table() throws {
    #expect(throws: EvaluationError.conflictingComplex(gene: "A", first: "1", second: "2")) {
      try ComplexAssignment(genes: ["A", "B", "A"], complexIDs: ["1", "1", "2"])
    }
    #expect(throws: EvaluationError.self) { try ComplexAssignment(genes: [], complexIDs: []) }
    #expect(throws: EvaluationError.self) {
      try ComplexAssignment(genes: ["A", ""], complexIDs: ["1", "1"])
    }
    let t = try ComplexAssignment(genes: ["A", "B", "A", "C"], complexIDs: ["1", "1", "1", "2"])
    #expect(t.repeatedRows == [2] && t.genes == ["A", "B", "C"] && t.complexes == ["1", "2"])
    let e = try GeneEmbedding(
      genes: ["A", "B", "C"], values: [1, 0, 0.9, 0.1, 0, 1], dimension: 2)
    let r = try Evaluator.evaluate(
      embedding: e, complexes: t,
      options: EvaluationOptions(restarts: 2, kRange: nil, randomDraws: 0, projections: false))
    #expect(r.warnings.contains { $0.contains("repeated") })
    #expect(r.main.map == 1)
  }

  @Test("zero rows and single-gene complexes give warnings, never a wrong number")
  func degenerate() throws {
    // Every complex has one gene: no query has a hit, mAP is undefined (null in JSON).
    let t = try ComplexAssignment(genes: ["A", "B", "C"], complexIDs: ["1", "2", "3"])
    let e = try GeneEmbedding(genes: ["A", "B", "C"], values: [1, 0, 0, 0, 0, 1], dimension: 2, input: "embedding")
    let r = try Evaluator.evaluate(
      embedding: e, complexes: t,
      options: EvaluationOptions(restarts: 2, kRange: nil, randomDraws: 1, projections: false))
    #expect(r.main.map == nil)
    #expect(r.metricsJSON()["map"] == JSONValue.null)
    #expect(r.warnings.contains { $0.contains("mAP is undefined") })
    #expect(r.warnings.contains { $0.contains("all-zero row") && $0.contains("B") })
  }

  @Test("one evaluated gene: no crash, mAP null, sweep skipped")
  func oneGene() throws {
    let complexes = try TestData.corum()
    let e = try GeneEmbedding(genes: ["PSMA5", "ctrl"], values: [1, 2, 3, 4, 5, 6], dimension: 3, input: "embedding")
    let r = try Evaluator.evaluate(
      embedding: e, complexes: complexes, options: EvaluationOptions(restarts: 3, randomDraws: 2))
    #expect(r.main.genes == ["PSMA5"] && r.main.map == nil && r.main.sweep.isEmpty)
    #expect(r.main.kmeans?.k == 1)
    let json = r.metricsJSON()
    #expect(json["n_genes"] == .int(1) && json["map"] == .null)
    let dir = try TestData.folder("one-gene")
    let files = try r.write(to: dir)
    #expect(files.count >= 2)
  }

  @Test("a single complex among the evaluated genes is flagged")
  func singleComplex() throws {
    let t = try ComplexAssignment(genes: ["A", "B", "C"], complexIDs: ["1", "1", "1"])
    let e = try GeneEmbedding(
      genes: ["A", "B", "C", "D"], values: [1, 0, 0.9, 0.1, 0, 1, 5, 5], dimension: 2)
    let r = try Evaluator.evaluate(
      embedding: e, complexes: t,
      options: EvaluationOptions(restarts: 2, kRange: nil, randomDraws: 0, projections: false))
    #expect(r.k == 1 && r.main.kmeans?.nmi.mean == 1)
    #expect(r.main.genesNotInTable == ["D"])
    #expect(r.warnings.contains { $0.contains("belong to 1 complex") })
  }

  @Test("a baseline that does not match the table is skipped with a warning")
  func badBaseline() throws {
    let complexes = try TestData.corum()
    let e = try TestData.embedding(complexes: complexes, dimension: 4, signal: 1)
    let other = try GeneEmbedding(genes: ["X", "Y"], values: [1, 2, 3, 4], dimension: 2, input: "embedding")
    let r = try Evaluator.evaluate(
      embedding: e, complexes: complexes,
      baselines: [NamedEmbedding(name: "other.h5", embedding: other)],
      options: EvaluationOptions(restarts: 2, kRange: nil, randomDraws: 0, projections: false))
    #expect(r.baselines.isEmpty)
    #expect(r.warnings.contains { $0.contains("baseline other.h5 skipped") })
  }
}
