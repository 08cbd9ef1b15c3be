import Foundation
import OPSData
import Testing

@testable import Evaluation

/// The scorer behind `grape train`'s validation gives `grape evaluate`'s mAP.
@Suite("Retrieval scorer")
struct RetrievalScorerTests {
  @Test("the mAP of grape evaluate, controls and genes outside the table left out")
  func matchesTheEvaluator() throws {
    let complexes = try TestData.corum()
    let e = try TestData.embedding(complexes: complexes, dimension: 8, signal: 0.7, controls: 2)
    let scorer = try RetrievalScorer(genes: e.genes, complexes: complexes, input: "run")
    #expect(scorer.scoredGeneCount == 105 && scorer.hasHits)
    var options = EvaluationOptions(restarts: 1, kRange: nil, randomDraws: 1, projections: false, tsne: false)
    options.nullSize = 0
    let report = try Evaluator.evaluate(embedding: e, complexes: complexes, options: options)
    let map = try #require(scorer.meanAveragePrecision(values: e.values, dimension: e.dimension))
    #expect(map == report.main.map)
    // A NaN in a scored row gives no value; one in a row outside the table changes nothing.
    var bad = e.values
    let control = try #require(e.genes.firstIndex { $0.hasPrefix("nontargeting") })
    bad[control * e.dimension] = .nan
    #expect(scorer.meanAveragePrecision(values: bad, dimension: e.dimension) == map)
    let scored = try #require(e.genes.firstIndex { complexes.complexIndex(of: $0) != nil })
    bad[scored * e.dimension + 1] = .infinity
    #expect(scorer.meanAveragePrecision(values: bad, dimension: e.dimension) == nil)
  }

  @Test("genes without a complex partner leave mAP undefined; no gene in the table is an error")
  func undefinedAndEmpty() throws {
    let complexes = try ComplexAssignment(genes: ["A", "B", "C"], complexIDs: ["1", "1", "2"])
    let lonely = try RetrievalScorer(genes: ["A", "C", "X"], complexes: complexes, input: "run")
    #expect(!lonely.hasHits && lonely.scoredGeneCount == 2)
    #expect(lonely.meanAveragePrecision(values: [1, 0, 0, 1, 1, 1], dimension: 2) == nil)
    let pair = try RetrievalScorer(genes: ["A", "X", "B"], complexes: complexes, input: "run")
    #expect(pair.meanAveragePrecision(values: [1, 0, 0, 1, 1, 0.1], dimension: 2) == 1)
    #expect(throws: EvaluationError.noGenesInTable(input: "run", embeddingGenes: 2, examples: ["x", "y"])) {
      try RetrievalScorer(genes: ["x", "y"], complexes: complexes, input: "run")
    }
  }
}
