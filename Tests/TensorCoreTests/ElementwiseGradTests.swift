import Testing
import TensorCore
import TestSupport

/// Finite-difference checks of every element-wise op, including broadcast operands.
@Suite struct ElementwiseGradTests {
  static let broadcastCases: [([Int], [Int])] = [
    ([2, 3], [2, 3]), ([2, 3], [3]), ([2, 1, 4], [3, 1]), ([2, 3], []), ([1, 3, 1, 2], [2, 1, 4, 1]),
  ]

  @Test(arguments: broadcastCases)
  func addSubMulDiv(_ a: [Int], _ b: [Int]) {
    let x = randomTensor(a, seed: 1)
    let y = awayFromZero(b, low: 0.5, high: 1.5, seed: 2)
    gradCheck([x, y], "add") { $0[0] + $0[1] }
    gradCheck([x, y], "sub") { $0[0] - $0[1] }
    gradCheck([x, y], "mul") { $0[0] * $0[1] }
    gradCheck([x, y], eps: 1e-3, "div") { $0[0] / $0[1] }
  }

  @Test func broadcastShapesAndValues() {
    let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
    let b = Tensor([10, 20, 30], shape: [3])
    #expect((a + b).scalars == [11, 22, 33, 14, 25, 36])
    let c = Tensor([1, 2], shape: [2, 1])
    #expect((a * c).scalars == [1, 2, 3, 8, 10, 12])
    #expect((c - b).shape == [2, 3])
    #expect((c - b).scalars == [-9, -19, -29, -8, -18, -28])
    #expect((a / 2).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
    #expect((1 - a).scalars == [0, -1, -2, -3, -4, -5])
  }

  @Test func scalarOps() {
    let x = randomTensor([3, 4], seed: 3)
    gradCheck([x], "neg") { -$0[0] }
    gradCheck([x], "affine") { $0[0] * 3 + 2 }
    gradCheck([x], "rsub") { 1 - $0[0] }
    gradCheck([awayFromZero([3, 4], low: 0.5, seed: 4)], eps: 1e-3, "rdiv") { 2 / $0[0] }
  }

  @Test func transcendental() {
    let x = randomTensor([2, 5], seed: 5)
    let pos = awayFromZero([2, 5], low: 0.5, high: 2, seed: 6).abs().detached()
    gradCheck([x], "exp") { $0[0].exp() }
    gradCheck([pos], eps: 1e-3, "log") { $0[0].log() }
    gradCheck([pos], eps: 1e-3, "sqrt") { $0[0].sqrt() }
    gradCheck([pos], eps: 1e-3, "rsqrt") { $0[0].rsqrt() }
    gradCheck([pos], eps: 1e-3, "reciprocal") { $0[0].reciprocal() }
    gradCheck([x], "square") { $0[0].square() }
    gradCheck([pos], eps: 1e-3, "pow") { $0[0].pow(3) }
    gradCheck([pos], eps: 1e-3, "pow fractional") { $0[0].pow(1.5) }
    gradCheck([x], "sigmoid") { $0[0].sigmoid() }
    gradCheck([x], "softplus") { $0[0].softplus() }
    gradCheck([x], "tanh") { $0[0].tanh() }
  }

  @Test func piecewise() {
    let x = awayFromZero([3, 4], low: 0.05, high: 1.5, seed: 7)
    gradCheck([x], "abs") { $0[0].abs() }
    gradCheck([x], "relu") { $0[0].relu() }
    gradCheck([x], "leakyRelu") { $0[0].leakyRelu(0.2) }
    gradCheck([x], eps: 1e-3, "clamp") { $0[0].clamped(-0.5, 0.7) }
    let y = awayFromZero([3, 4], low: 0.05, high: 1.5, seed: 8)
    gradCheck([x, y], eps: 1e-3, "maximum") { maximum($0[0], $0[1]) }
    gradCheck([x, y], eps: 1e-3, "minimum") { minimum($0[0], $0[1]) }
    let cond = x.greater(0)
    gradCheck([x, y], "select") { select(cond, $0[0], $0[1]) }
  }

  @Test func forwardValues() {
    let x = Tensor([-2, -0.5, 0, 0.5, 2], shape: [5])
    assertClose(x.relu(), Tensor([0, 0, 0, 0.5, 2], shape: [5]))
    assertClose(x.leakyRelu(0.2), Tensor([-0.4, -0.1, 0, 0.5, 2], shape: [5]))
    assertClose(x.sigmoid(), Tensor([0.11920292, 0.37754067, 0.5, 0.62245933, 0.88079708], shape: [5]))
    assertClose(x.softplus(), Tensor([0.12692801, 0.47407698, 0.69314718, 0.97407698, 2.12692801], shape: [5]))
    assertClose(x.tanh(), Tensor([-0.96402758, -0.46211716, 0, 0.46211716, 0.96402758], shape: [5]))
    assertClose(x.clamped(-1, 1), Tensor([-1, -0.5, 0, 0.5, 1], shape: [5]))
    // softplus is stable for large inputs.
    let big = Tensor([100, -100], shape: [2]).softplus().scalars
    #expect(big[0] == 100 && big[1] >= 0 && big[1] < 1e-40)
    #expect(select(Tensor([1, 0, 2], shape: [3]), Tensor([1, 2, 3], shape: [3]), Tensor(9)).scalars == [1, 9, 3])
  }
}
