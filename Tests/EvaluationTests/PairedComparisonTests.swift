import Foundation
import Testing

@testable import Evaluation

@Suite("Paired mAP comparison")
struct PairedComparisonTests {
  /// The exact two-sided sign-flip p-value by enumerating all 2ⁿ sign patterns.
  static func exactP(_ d: [Double]) -> Double {
    let n = d.count
    let observed = abs(d.reduce(0, +) / Double(n))
    var hits = 0
    for mask in 0..<(1 << n) {
      var s = 0.0
      for i in 0..<n { s += (mask >> i) & 1 == 1 ? -d[i] : d[i] }
      if abs(s / Double(n)) >= observed * (1 - 1e-12) { hits += 1 }
    }
    return Double(hits) / Double(1 << n)
  }

  @Test("sign-flip p-value agrees with full enumeration within Monte-Carlo error")
  func agreesWithEnumeration() throws {
    let cases: [[Double]] = [
      [0.30, 0.25, 0.10, 0.40, 0.05, 0.20, 0.15, 0.35, 0.30, 0.22],  // all positive: p = 2/1024
      [0.10, -0.05, 0.02, -0.08, 0.04, 0.01, -0.03, 0.06, -0.02, 0.05],  // mixed: large p
      [0.20, 0.10, -0.05, 0.15, 0.12, -0.02, 0.08, 0.11],
    ]
    for d in cases {
      let test = try #require(PairedMAPComparison.compare(differences: d, draws: 20_000, seed: 3))
      let exact = Self.exactP(d)
      // Binomial standard error of the Monte-Carlo estimate, and the +1 of the estimator.
      let se = (exact * (1 - exact) / 20_000).squareRoot()
      #expect(abs(test.pValue - exact) < 4 * se + 2.0 / 20_000, "d = \(d): \(test.pValue) against \(exact)")
      #expect(abs(test.difference - d.reduce(0, +) / Double(d.count)) < 1e-12)
      #expect(test.genes == d.count)
    }
  }

  @Test("same seed, same p; fewer than two genes gives no test")
  func deterministicAndUndefined() {
    let d = [0.1, -0.2, 0.3, 0.05, 0.0]
    #expect(PairedMAPComparison.compare(differences: d, seed: 9) == PairedMAPComparison.compare(differences: d, seed: 9))
    #expect(PairedMAPComparison.compare(differences: [0.4]) == nil)
    #expect(PairedMAPComparison.compare(differences: []) == nil)
    // Identical embeddings: every difference 0, every flip ties, p = 1.
    #expect(PairedMAPComparison.compare(differences: [0, 0, 0])?.pValue == 1)
  }
}
