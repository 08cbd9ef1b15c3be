import Foundation

/// Multinomial logistic regression with an L2 penalty on the coefficients, fitted by L-BFGS:
/// scikit-learn's `LogisticRegression(C=c, solver="lbfgs")` for more than two classes.
///
/// The objective, over n training rows xᵢ with classes yᵢ, coefficients W [K, d] and unpenalised
/// intercepts b [K] (scikit-learn's `LinearModelLoss` with `l2_reg_strength = 1 / (C · n)`):
///
/// ```
/// f(W, b) = (1/n) Σᵢ −log softmax(W xᵢ + b)_yᵢ + ‖W‖² / (2 C n)
/// ∇_W f = (1/n) (P − Y)ᵀ X + W / (C n),   ∇_b f = (1/n) Σᵢ (pᵢ − yᵢ)
/// ```
///
/// It is convex, so the minimiser is unique in W (the penalty makes every feature's coefficients
/// sum to 0 over the classes); the intercepts are unique up to a common shift, which changes no
/// probability. Classes are those present in the training labels (as `classes_`); predictions
/// name them by their original index.
public struct LogisticRegression: Sendable, Equatable {
  /// Features per row.
  public let features: Int
  /// The class labels, sorted (the rows of ``coefficients``).
  public let classes: [Int]
  /// Row-major [classes.count, features] coefficients.
  public var coefficients: [Double]
  /// One intercept per class.
  public var intercepts: [Double]
  /// L-BFGS iterations run.
  public var iterations: Int
  /// Whether the fit converged: the largest absolute gradient entry fell below the tolerance, or
  /// a step lowered the objective by no more than rounding (scipy's `ftol` test, 64 ε relative).
  public var converged: Bool
  /// The objective at the solution.
  public var loss: Double
  /// The inverse penalty strength C.
  public let c: Double

  /// Fits the model.
  ///
  /// - Parameters:
  ///   - x: row-major [rows, features] values.
  ///   - labels: the class of each row (any non-negative integers; at least two distinct).
  ///   - c: inverse L2 strength, as scikit-learn's `C` (1).
  ///   - maxIterations: L-BFGS iterations at most.
  ///   - tolerance: stop when max |∇f| ≤ tolerance (scikit-learn's `tol` is the same test on
  ///     the projected gradient).
  ///   - memory: L-BFGS history pairs (scipy's default 10).
  /// - Throws: ``EvaluationError/invalidOption(name:value:reason:)`` for sizes that disagree,
  ///   fewer than two classes, a non-positive `c` or a non-finite value.
  public static func fit(
    x: [Double], rows n: Int, features d: Int, labels: [Int], c: Double = 1, maxIterations: Int = 1000,
    tolerance: Double = 1e-6, memory: Int = 10
  ) throws -> LogisticRegression {
    guard n > 0, d > 0, x.count == n * d, labels.count == n else {
      throw EvaluationError.invalidOption(name: "logistic regression data", value: "\(x.count) values, \(labels.count) labels", reason: "expected \(n) rows × \(d) features")
    }
    guard c > 0, c.isFinite else { throw EvaluationError.invalidOption(name: "C", value: "\(c)", reason: "must be positive") }
    guard maxIterations >= 1 else { throw EvaluationError.invalidOption(name: "max iterations", value: "\(maxIterations)", reason: "must be at least 1") }
    if let bad = x.firstIndex(where: { !$0.isFinite }) {
      throw EvaluationError.invalidOption(name: "logistic regression data", value: "row \(bad / d), feature \(bad % d)", reason: "NaN or infinite value")
    }
    let classes = Array(Set(labels)).sorted()
    guard classes.count >= 2, classes[0] >= 0 else {
      throw EvaluationError.invalidOption(name: "labels", value: "\(classes.count) classes", reason: "need at least two non-negative classes")
    }
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    let y = labels.map { index[$0] ?? 0 }
    let problem = Problem(x: x, n: n, d: d, k: classes.count, y: y, c: c)
    var theta = [Double](repeating: 0, count: problem.parameterCount)
    let result = LBFGS.minimize(&theta, maxIterations: maxIterations, tolerance: tolerance, memory: memory) { problem.lossAndGradient($0) }
    let k = classes.count
    return LogisticRegression(
      features: d, classes: classes, coefficients: Array(theta[0..<(k * d)]), intercepts: Array(theta[(k * d)...]),
      iterations: result.iterations, converged: result.converged, loss: result.loss, c: c)
  }

  /// Class probabilities, row-major [rows, classes.count] (columns in ``classes`` order).
  public func probabilities(x: [Double], rows n: Int) -> [Double] {
    precondition(x.count == n * features, "LogisticRegression: \(x.count) values for \(n) rows × \(features) features")
    var z = logits(x: x, rows: n)
    softmaxRows(&z, rows: n, columns: classes.count)
    return z
  }

  /// The most probable class of each row (the first on ties), as an original label.
  public func predict(x: [Double], rows n: Int) -> [Int] {
    let k = classes.count
    let z = logits(x: x, rows: n)
    return (0..<n).map { i in
      var best = 0
      for j in 1..<k where z[i * k + j] > z[i * k + best] { best = j }
      return classes[best]
    }
  }

  /// Share of rows whose predicted class is the label.
  public func accuracy(x: [Double], rows n: Int, labels: [Int]) -> Double {
    guard n > 0 else { return 0 }
    return Double(zip(predict(x: x, rows: n), labels).filter { $0 == $1 }.count) / Double(n)
  }

  /// Row-major [rows, classes.count] scores X Wᵀ + b.
  private func logits(x: [Double], rows n: Int) -> [Double] {
    let k = classes.count
    var z = [Double](repeating: 0, count: n * k)
    for i in 0..<n { for j in 0..<k { z[i * k + j] = intercepts[j] } }
    LinearAlgebra.dgemm(transA: false, transB: true, m: n, n: k, k: features, alpha: 1, x, coefficients, beta: 1, &z)
    return z
  }

  /// The objective and its gradient over θ = [W (row-major), b].
  struct Problem {
    let x: [Double]
    let n: Int
    let d: Int
    let k: Int
    let y: [Int]
    let c: Double

    var parameterCount: Int { k * d + k }

    func lossAndGradient(_ theta: [Double]) -> (Double, [Double]) {
      var z = [Double](repeating: 0, count: n * k)
      for i in 0..<n { for j in 0..<k { z[i * k + j] = theta[k * d + j] } }
      // θ's first k·d entries are W; the intercepts after them are not read by the product.
      LinearAlgebra.dgemm(transA: false, transB: true, m: n, n: k, k: d, alpha: 1, x, theta, beta: 1, &z)
      // Per row: the log-sum-exp, the loss term, and z ← (softmax − onehot) / n.
      var loss = 0.0
      let inv = 1 / Double(n)
      for i in 0..<n {
        var m = -Double.infinity
        for j in 0..<k { m = max(m, z[i * k + j]) }
        var s = 0.0
        for j in 0..<k {
          let e = Foundation.exp(z[i * k + j] - m)
          z[i * k + j] = e
          s += e
        }
        let target = z[i * k + y[i]]
        loss -= Foundation.log(target / s)
        for j in 0..<k { z[i * k + j] = z[i * k + j] / s * inv }
        z[i * k + y[i]] -= inv
      }
      loss *= inv
      var grad = [Double](repeating: 0, count: parameterCount)
      let reg = 1 / (c * Double(n))
      var penalty = 0.0
      for j in 0..<(k * d) {
        grad[j] = theta[j] * reg
        penalty += theta[j] * theta[j]
      }
      LinearAlgebra.dgemm(transA: true, transB: false, m: k, n: d, k: n, alpha: 1, z, x, beta: 1, &grad)
      for i in 0..<n { for j in 0..<k { grad[k * d + j] += z[i * k + j] } }
      return (loss + 0.5 * reg * penalty, grad)
    }
  }
}

/// In-place softmax of each row of a row-major [rows, columns] matrix.
func softmaxRows(_ z: inout [Double], rows n: Int, columns k: Int) {
  for i in 0..<n {
    var m = -Double.infinity
    for j in 0..<k { m = max(m, z[i * k + j]) }
    var s = 0.0
    for j in 0..<k {
      z[i * k + j] = Foundation.exp(z[i * k + j] - m)
      s += z[i * k + j]
    }
    for j in 0..<k { z[i * k + j] /= s }
  }
}

/// Limited-memory BFGS (Nocedal, 1980; Nocedal and Wright, Algorithm 7.4) with a backtracking
/// line search on the Armijo condition, for smooth convex objectives.
enum LBFGS {
  struct Result {
    var iterations: Int
    var converged: Bool
    var loss: Double
  }

  /// Minimises `f` from `x`, which ends at the solution.
  static func minimize(
    _ x: inout [Double], maxIterations: Int, tolerance: Double, memory: Int, _ f: ([Double]) -> (Double, [Double])
  ) -> Result {
    var (fx, g) = f(x)
    var sHistory: [[Double]] = []
    var yHistory: [[Double]] = []
    var rhoHistory: [Double] = []
    func dot(_ a: [Double], _ b: [Double]) -> Double {
      var s = 0.0
      for i in a.indices { s += a[i] * b[i] }
      return s
    }
    func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }
    var iteration = 0
    while iteration < maxIterations {
      if maxAbs(g) <= tolerance { return Result(iterations: iteration, converged: true, loss: fx) }
      // Two-loop recursion: direction = −H g.
      var q = g
      var alphas = [Double](repeating: 0, count: sHistory.count)
      for i in stride(from: sHistory.count - 1, through: 0, by: -1) {
        alphas[i] = rhoHistory[i] * dot(sHistory[i], q)
        for j in q.indices { q[j] -= alphas[i] * yHistory[i][j] }
      }
      if let s = sHistory.last, let y = yHistory.last {
        let gamma = dot(s, y) / dot(y, y)
        for j in q.indices { q[j] *= gamma }
      } else {
        let norm = dot(g, g).squareRoot()
        for j in q.indices { q[j] /= max(norm, 1) }
      }
      for i in sHistory.indices {
        let beta = rhoHistory[i] * dot(yHistory[i], q)
        for j in q.indices { q[j] += (alphas[i] - beta) * sHistory[i][j] }
      }
      var direction = q.map { -$0 }
      var slope = dot(g, direction)
      if slope >= 0 {
        // Not a descent direction (numerical trouble): restart from steepest descent.
        sHistory.removeAll()
        yHistory.removeAll()
        rhoHistory.removeAll()
        direction = g.map { -$0 }
        slope = -dot(g, g)
      }
      var step = 1.0
      var next = x
      var fNext = fx
      var gNext = g
      var accepted = false
      for _ in 0..<40 {
        for j in x.indices { next[j] = x[j] + step * direction[j] }
        (fNext, gNext) = f(next)
        if fNext.isFinite, fNext <= fx + 1e-4 * step * slope {
          accepted = true
          break
        }
        step *= 0.5
      }
      iteration += 1
      guard accepted else { return Result(iterations: iteration, converged: maxAbs(g) <= tolerance, loss: fx) }
      var s = [Double](repeating: 0, count: x.count)
      var y = [Double](repeating: 0, count: x.count)
      for j in x.indices {
        s[j] = next[j] - x[j]
        y[j] = gNext[j] - g[j]
      }
      let sy = dot(s, y)
      let decrease = fx - fNext
      x = next
      fx = fNext
      g = gNext
      if sy > 1e-12 {
        sHistory.append(s)
        yHistory.append(y)
        rhoHistory.append(1 / sy)
        if sHistory.count > memory {
          sHistory.removeFirst()
          yHistory.removeFirst()
          rhoHistory.removeFirst()
        }
      }
      // scipy's ftol test: stop when the relative decrease is at the level of rounding.
      if decrease <= 64 * Double.ulpOfOne * max(abs(fx), abs(fx + decrease), 1) {
        return Result(iterations: iteration, converged: true, loss: fx)
      }
    }
    return Result(iterations: iteration, converged: maxAbs(g) <= tolerance, loss: fx)
  }
}
