import Foundation
import Testing

@testable import Evaluation

@Suite("Average precision")
struct AveragePrecisionTests {
  /// Unit vectors at the given angles (degrees), as a flat [n, 2] matrix.
  static func angles(_ degrees: [Double]) -> [Float] {
    degrees.flatMap { a -> [Float] in
      let r = a * Double.pi / 180
      return [Float(cos(r)), Float(sin(r))]
    }
  }

  @Test("hand-worked example: five genes in two complexes")
  func handWorked() {
    // Genes at 0°, 60°, 20°, 95°, 45°; complexes {0, 1} and {2, 3, 4}.
    // Query 0 ranks 2, 4, 1, 3: hit 1 at rank 3 → AP 1/3.
    // Query 1 ranks 4, 3, 2, 0: hit 0 at rank 4 → AP 1/4.
    // Query 2 ranks 0, 4, 1, 3: hits at ranks 2 and 4 → (1/2 + 2/4)/2 = 1/2.
    // Query 3 ranks 1, 4, 2, 0: hits at ranks 2 and 3 → (1/2 + 2/3)/2 = 7/12.
    // Query 4 ranks 1, 2, 0, 3: hits at ranks 2 and 4 → 1/2.
    let r = AveragePrecision.compute(
      values: Self.angles([0, 60, 20, 95, 45]), count: 5, dimension: 2, labels: [0, 0, 1, 1, 1])
    let expected: [Double] = [1.0 / 3, 1.0 / 4, 1.0 / 2, 7.0 / 12, 1.0 / 2]
    for i in 0..<5 { #expect(abs((r.perQuery[i] ?? -1) - expected[i]) < 1e-12) }
    #expect(abs((r.meanAveragePrecision ?? -1) - 26.0 / 60) < 1e-12)
    #expect(r.hitCounts == [1, 1, 2, 2, 2])
  }

  @Test("matches scikit-learn's average_precision_score", arguments: ["clustered", "noise"])
  func matchesSklearn(name: String) throws {
    let c = try #require(try Fixture.cases("map.json").first { $0.string("name") == name })
    let n = try c.int("rows")
    let d = try c.int("dimension")
    let r = AveragePrecision.compute(
      values: try c.floats("values"), count: n, dimension: d, labels: try c.ints("labels"))
    let expected = try c.optionalDoubles("ap")
    for i in 0..<n {
      if let e = expected[i] {
        let got = try #require(r.perQuery[i])
        #expect(abs(got - e) < 1e-9, "row \(i): \(got) vs \(e)")
      } else {
        #expect(r.perQuery[i] == nil)
      }
    }
    #expect(abs((r.meanAveragePrecision ?? -1) - (try c.double("map"))) < 1e-9)
  }

  @Test("ties are broken by row order")
  func ties() {
    // Rows 1 and 2 are identical; only row 1 is a hit for query 0 (first case) or only row 2
    // (second case). The lower row ranks first.
    let v: [Float] = [1, 0, 0.5, 0.5, 0.5, 0.5, 0, 1]
    let a = AveragePrecision.compute(values: v, count: 4, dimension: 2, labels: [0, 0, 1, 2])
    #expect(a.perQuery[0] == 1.0)
    let b = AveragePrecision.compute(values: v, count: 4, dimension: 2, labels: [0, 1, 0, 2])
    #expect(b.perQuery[0] == 0.5)
  }

  @Test("queries without hits are left out of the mean")
  func noHits() {
    let v = Self.angles([0, 10, 90, 200])
    let r = AveragePrecision.compute(values: v, count: 4, dimension: 2, labels: [0, 0, 1, 2])
    #expect(r.perQuery[2] == nil && r.perQuery[3] == nil)
    #expect(r.meanAveragePrecision == 1.0)
    let none = AveragePrecision.compute(values: v, count: 4, dimension: 2, labels: [0, 1, 2, 3])
    #expect(none.meanAveragePrecision == nil)
  }

  @Test("a zero row has similarity 0 to every gene")
  func zeroRow() {
    // Query 0 = (1, 0): row 1 is zero (similarity 0), row 2 has similarity −1, row 3 has +0.6.
    let v: [Float] = [1, 0, 0, 0, -1, 0, 0.6, 0.8]
    let r = AveragePrecision.compute(values: v, count: 4, dimension: 2, labels: [0, 0, 1, 1])
    // Ranking for query 0: 3 (0.6), 1 (0), 2 (−1): hit 1 at rank 2.
    #expect(r.perQuery[0] == 0.5)
  }

  @Test("ranked-list AP")
  func rankedList() {
    let expected: Double = (1 + 2.0 / 3) / 2
    #expect(AveragePrecision.averagePrecision(rankedRelevance: [true, false, true]) == expected)
    #expect(AveragePrecision.averagePrecision(rankedRelevance: [false, false]) == nil)
  }

  @Test(
    "chance AP formula equals the mean over all rankings",
    arguments: [(5, 1), (5, 2), (6, 3), (4, 4)])
  func chanceFormula(n: Int, m: Int) {
    // Enumerate all orderings of n items with m hits (positions of hits among n).
    var total = 0.0
    var count = 0
    func choose(_ start: Int, _ left: Int, _ picked: [Int]) {
      if left == 0 {
        var rel = [Bool](repeating: false, count: n)
        for p in picked { rel[p] = true }
        total += AveragePrecision.averagePrecision(rankedRelevance: rel) ?? 0
        count += 1
        return
      }
      if start >= n { return }
      for p in start..<n { choose(p + 1, left - 1, picked + [p]) }
    }
    choose(0, m, [])
    let formula = AveragePrecision.expectedRandomAveragePrecision(hits: m, candidates: n)
    #expect(abs(total / Double(count) - formula) < 1e-12)
  }
}
