import Testing

@testable import Evaluation

@Suite("NMI, ARI and purity")
struct ClusterAgreementTests {
  @Test("match scikit-learn on fixed and random labelings")
  func matchSklearn() throws {
    let cases = try Fixture.cases("cluster_metrics.json")
    #expect(cases.count >= 10)
    for c in cases {
      let t = try c.ints("truth")
      let p = try c.ints("predicted")
      let name = c.string("name")
      let nmi = ClusterAgreement.normalizedMutualInformation(truth: t, predicted: p)
      let ari = ClusterAgreement.adjustedRandIndex(truth: t, predicted: p)
      let purity = ClusterAgreement.purity(truth: t, predicted: p)
      #expect(abs(nmi - (try c.double("nmi"))) < 1e-12, "\(name) NMI \(nmi)")
      #expect(abs(ari - (try c.double("ari"))) < 1e-12, "\(name) ARI \(ari)")
      #expect(abs(purity - (try c.double("purity"))) < 1e-12, "\(name) purity \(purity)")
    }
  }

  @Test("hand-worked values")
  func handWorked() {
    // Truth {0,0,1,1}, clusters {0,1,0,1}: independent → NMI 0, purity 1/2; ARI = −1/2.
    #expect(
      ClusterAgreement.normalizedMutualInformation(truth: [0, 0, 1, 1], predicted: [0, 1, 0, 1])
        == 0)
    #expect(ClusterAgreement.purity(truth: [0, 0, 1, 1], predicted: [0, 1, 0, 1]) == 0.5)
    #expect(
      abs(ClusterAgreement.adjustedRandIndex(truth: [0, 0, 1, 1], predicted: [0, 1, 0, 1]) + 0.5)
        < 1e-12)
    // Purity of singletons is 1 (each cluster is pure).
    #expect(ClusterAgreement.purity(truth: [0, 0, 1, 1], predicted: [0, 1, 2, 3]) == 1)
  }

  @Test("metrics do not depend on label values")
  func relabelling() {
    let t = [3, 3, 1, 1, 1, 7, 7, 0]
    let p = [0, 0, 0, 1, 1, 2, 2, 2]
    let p2 = p.map { 100 - $0 * 7 }
    #expect(
      ClusterAgreement.normalizedMutualInformation(truth: t, predicted: p)
        == ClusterAgreement.normalizedMutualInformation(truth: t, predicted: p2))
    #expect(
      ClusterAgreement.adjustedRandIndex(truth: t, predicted: p)
        == ClusterAgreement.adjustedRandIndex(truth: t, predicted: p2))
  }

  @Test("mean and population standard deviation")
  func meanStd() {
    let s = MeanStd([1, 2, 3, 4])
    #expect(s.mean == 2.5)
    #expect(abs(s.std - 1.25.squareRoot()) < 1e-15)
    #expect(MeanStd([]).mean == 0)
  }
}
