import Foundation
import Testing

@testable import Evaluation

/// The multinomial logistic regression of `grape classify baseline` against scikit-learn
/// (`scripts/reference/logistic_reference.py` wrote `Fixtures/logistic.json`).
@Suite struct LogisticRegressionTests {
  @Test func matchesScikitLearn() throws {
    let fixture = try Fixture.load("logistic.json")
    let x = try fixture.doubles("x")
    let labels = try fixture.ints("labels")
    let (n, d) = (try fixture.int("rows"), try fixture.int("features"))
    for case_ in try Fixture.cases("logistic.json") {
      let c = try case_.double("c")
      let m = try LogisticRegression.fit(x: x, rows: n, features: d, labels: labels, c: c, maxIterations: 5000, tolerance: 1e-10)
      #expect(m.converged, "C = \(c): \(m.iterations) iterations")
      #expect(m.classes == (try case_.ints("classes")))
      #expect(abs(m.loss - (try case_.double("loss"))) < 1e-9, "C = \(c): loss \(m.loss)")
      let coef = try case_.doubles("coefficients")
      let worstCoef = zip(m.coefficients, coef).map { abs($0 - $1) }.max() ?? 0
      #expect(worstCoef < 1e-5, "C = \(c): coefficients differ by up to \(worstCoef)")
      let mean = m.intercepts.reduce(0, +) / Double(m.intercepts.count)
      let worstIntercept = zip(m.intercepts.map { $0 - mean }, try case_.doubles("intercepts")).map { abs($0 - $1) }.max() ?? 0
      #expect(worstIntercept < 1e-5, "C = \(c): centred intercepts differ by up to \(worstIntercept)")
      let p = m.probabilities(x: x, rows: n)
      let worstP = zip(p, try case_.doubles("probabilities")).map { abs($0 - $1) }.max() ?? 0
      #expect(worstP < 1e-6, "C = \(c): probabilities differ by up to \(worstP)")
      // Every feature's coefficients sum to 0 over the classes (the penalty's optimum).
      for j in 0..<d {
        let s = (0..<m.classes.count).map { m.coefficients[$0 * d + j] }.reduce(0, +)
        #expect(abs(s) < 1e-6)
      }
    }
  }

  @Test func theGradientIsTheObjectivesDerivative() {
    // Central differences of the objective in double precision.
    let x: [Double] = [0.5, -1, 2, 0.3, -0.7, 1.1, 0.2, 0.9, -1.5, 0.4, 1.3, -0.2]
    let problem = LogisticRegression.Problem(x: x, n: 4, d: 3, k: 3, y: [0, 2, 1, 2], c: 0.7)
    let theta: [Double] = [0.1, -0.2, 0.3, 0.05, 0.4, -0.1, -0.3, 0.2, 0.15, 0.2, -0.1, 0.05]
    let (_, g) = problem.lossAndGradient(theta)
    for i in theta.indices {
      var plus = theta
      var minus = theta
      plus[i] += 1e-6
      minus[i] -= 1e-6
      let numeric = (problem.lossAndGradient(plus).0 - problem.lossAndGradient(minus).0) / 2e-6
      #expect(abs(numeric - g[i]) < 1e-7, "parameter \(i): \(g[i]) vs \(numeric)")
    }
  }

  @Test func badInputsAreRefused() {
    #expect(throws: EvaluationError.self) { try LogisticRegression.fit(x: [1, 2], rows: 2, features: 1, labels: [3, 3]) }
    #expect(throws: EvaluationError.self) { try LogisticRegression.fit(x: [1, 2], rows: 2, features: 1, labels: [0, 1], c: 0) }
    #expect(throws: EvaluationError.self) { try LogisticRegression.fit(x: [1, .nan], rows: 2, features: 1, labels: [0, 1]) }
    #expect(throws: EvaluationError.self) { try LogisticRegression.fit(x: [1, 2, 3], rows: 2, features: 1, labels: [0, 1]) }
  }

  @Test func theBaselineScoresEachSplit() throws {
    // Two genes separated by feature 0 in two batches whose offsets the control standardisation removes.
    var values: [Double] = []
    var genes: [Int] = []
    var batches: [Int] = []
    for b in 0..<2 {
      for i in 0..<30 {
        let g = i % 3  // 0 = control, 1, 2
        let signal = g == 0 ? 0.0 : (g == 1 ? -1.0 : 1.0)
        values += [signal + Double(b) * 5 + 0.1 * sin(Double(i)), cos(Double(i * 7 + b))]
        genes.append(g)
        batches.append(b)
      }
    }
    var profiles = try CellProfiles(
      values: values, features: ["f0", "f1"], geneOfCell: genes, batchOfCell: batches, genes: ["ctrl", "A", "B"], batches: ["P1", "P2"],
      controlGene: 0)
    try ProfileNormalizer.apply(&profiles, method: .standardize)
    let training = Array(0..<24)
    let r = try LogisticBaseline.run(
      profiles: profiles, training: training, trainSubset: Array(0..<10), validation: Array(24..<30), heldOut: Array(30..<60))
    #expect(r.trainAccuracy == 1 && r.validationAccuracy == 1, "\(r.trainAccuracy) \(String(describing: r.validationAccuracy))")
    #expect(r.heldOutAccuracy == 1 && r.perBatch == ["P2": 1] && r.cellsPerBatch == ["P2": 30])
    #expect(r.model.converged)
  }
}
