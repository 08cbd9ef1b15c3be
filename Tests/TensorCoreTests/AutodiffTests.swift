import GrapeSupport
import Testing
import TensorCore
import TestSupport

@Suite struct AutodiffTests {
  @Test func accumulatesOverMultipleUses() {
    let x = Tensor([1, 2, 3], shape: [3]).requiringGrad()
    let y = (x * x + x * 3).sum()  // dy/dx = 2x + 3
    #expect(gradients(of: y, wrt: [x])[0].scalars == [5, 7, 9])
  }

  @Test func detachAndNoGrad() {
    let x = Tensor([1, 2], shape: [2]).requiringGrad()
    let y = (x * x.detached()).sum()  // d/dx = x (the detached factor is a constant)
    #expect(gradients(of: y, wrt: [x])[0].scalars == [1, 2])
    let z = withoutGradient { (x * x).sum() }
    #expect(!z.requiresGrad)
    #expect(gradients(of: z, wrt: [x])[0].scalars == [0, 0])
  }

  @Test func unusedInputGetsZeros() {
    let x = Tensor([1, 2], shape: [2]).requiringGrad()
    let u = Tensor([5], shape: [1]).requiringGrad()
    let g = gradients(of: x.sum(), wrt: [x, u])
    #expect(g[1].scalars == [0])
  }

  @Test func secondDerivativeOfElementwise() {
    // d²/dx² of x³ = 6x; of exp(x) = exp(x); of sigmoid.
    let x = Tensor([0.5, -1, 2], shape: [3]).requiringGrad()
    let g1 = gradients(of: x.pow(3).sum(), wrt: [x], createGraph: true)[0]
    let g2 = gradients(of: g1.sum(), wrt: [x])[0]
    assertClose(g2, Tensor([3, -6, 12], shape: [3]), rtol: 1e-5)
    let e1 = gradients(of: x.exp().sum(), wrt: [x], createGraph: true)[0]
    let e2 = gradients(of: e1.sum(), wrt: [x])[0]
    assertClose(e2, x.detached().exp(), rtol: 1e-5)
    let t1 = gradients(of: x.tanh().sum(), wrt: [x], createGraph: true)[0]
    let t2 = gradients(of: t1.sum(), wrt: [x])[0]
    let t = x.detached().tanh()
    assertClose(t2, -2 * t * (1 - t * t), rtol: 1e-4, atol: 1e-6)
  }

  /// R1 regularisation needs the gradient, with respect to D's weights, of the squared norm of
  /// D's input gradient: double backward through conv2d, leaky ReLU, average pooling, addition,
  /// scaling, reshape, pick (gather) and sum. Checked against central finite differences of the
  /// R1 value. Leaky ReLU makes R1 piecewise smooth, so a perturbation that moves any
  /// pre-activation across zero is skipped (its difference quotient measures the jump, not the
  /// derivative); at least 80% of the entries must be checked.
  @Test func r1DoubleBackwardMatchesFiniteDifferences() {
    let x = randomTensor([3, 2, 8, 8], seed: 61)
    let params = [
      randomTensor([4, 2, 3, 3], seed: 62, std: 0.4), randomTensor([4], seed: 63, std: 0.1),
      randomTensor([4, 4, 3, 3], seed: 64, std: 0.3), randomTensor([5, 4, 4, 4], seed: 65, std: 0.3),
    ]
    let heads = [1, 4, 0]

    /// D's head outputs and the signs of its pre-activations.
    func discriminator(_ x: Tensor, _ p: [Tensor]) -> (Tensor, [Float]) {
      let a1 = conv2d(x, weight: p[0], bias: p[1], padding: 1)
      let skip = a1.avgPool2x2()
      let a2 = conv2d(a1.leakyRelu(0.2), weight: p[2], padding: 1).avgPool2x2()
      let a3 = (a2 + skip) * (1 / Float(2).squareRoot())
      let out = conv2d(a3.leakyRelu(0.2), weight: p[3]).reshaped([3, 5]).pick(heads)
      return (out, a1.greater(0).scalars + a3.greater(0).scalars)
    }

    func r1(_ p: [Tensor]) -> (Tensor, [Float]) {
      let xr = x.requiringGrad()
      let (out, signs) = discriminator(xr, p)
      let gx = gradients(of: out.sum(), wrt: [xr], createGraph: true)[0]
      return (gx.square().sum(axes: [1, 2, 3]).mean() * 0.5, signs)
    }

    let leaves = params.map { $0.requiringGrad() }
    let (value, signs) = r1(leaves)
    let analytic = gradients(of: value, wrt: leaves)
    let eps: Float = 1e-3
    var checked = 0, total = 0
    for k in params.indices {
      var mismatches: [String] = []
      for i in 0..<params[k].count {
        total += 1
        var plus = params, minus = params
        var vp = params[k].scalars, vm = vp
        vp[i] += eps
        vm[i] -= eps
        plus[k] = Tensor(vp, shape: params[k].shape)
        minus[k] = Tensor(vm, shape: params[k].shape)
        let (rp, sp) = r1(plus)
        let (rm, sm) = r1(minus)
        guard sp == signs && sm == signs else { continue }
        checked += 1
        let numeric = (Double(rp.item) - Double(rm.item)) / (2 * Double(eps))
        let a = Double(analytic[k][flat: i])
        if abs(a - numeric) > 2e-3 + 2e-2 * abs(numeric) { mismatches.append("[\(i)] \(a) vs \(numeric)") }
      }
      #expect(mismatches.isEmpty, "parameter \(k): \(mismatches.prefix(5))")
    }
    #expect(Double(checked) >= 0.8 * Double(total), "only \(checked) of \(total) entries avoided a kink")
    // The bias enters the input gradient only through the kinks, so its R1 gradient is zero.
    #expect(analytic[1].scalars.allSatisfy { abs($0) < 1e-6 })
    #expect(analytic[3].scalars.contains { abs($0) > 1e-3 })
  }

  /// Graphs must be freed once their tensors go out of scope: no reference cycles between
  /// nodes, closures and outputs, also after a double backward.
  @Test func graphsAreFreed() {
    let w = randomTensor([8, 4, 3, 3], seed: 71).requiringGrad()
    let x = randomTensor([4, 4, 8, 8], seed: 72)
    weak var output: Storage?
    weak var hidden: Storage?
    weak var firstGradient: Storage?
    do {
      let h = conv2d(x, weight: w, padding: 1).leakyRelu()
      let y = h.avgPool2x2()
      let g = gradients(of: y.square().mean(), wrt: [w], createGraph: true)[0]
      _ = gradients(of: g.square().sum(), wrt: [w])
      output = y.storage
      hidden = h.storage
      firstGradient = g.storage
      #expect(output != nil && hidden != nil && firstGradient != nil)
    }
    #expect(output == nil, "the output's buffer outlived its graph")
    #expect(hidden == nil, "an intermediate buffer outlived its graph")
    #expect(firstGradient == nil, "a create-graph gradient outlived its graph")
  }

  /// Buffers are recycled: a repeated step is served from the pool.
  @Test func buffersAreReused() {
    let w = randomTensor([8, 4, 3, 3], seed: 73).requiringGrad()
    let x = randomTensor([4, 4, 8, 8], seed: 74)
    func step() { _ = gradients(of: conv2d(x, weight: w, padding: 1).square().mean(), wrt: [w]) }
    step()
    // The pool is shared with tests running in parallel, whose first allocations count as misses
    // here; reuse that works shows in at least one of three windows, broken reuse in none.
    var windows: [(hits: Int, misses: Int)] = []
    for _ in 0..<3 {
      let before = BufferPool.shared.statistics
      for _ in 0..<20 { step() }
      let after = BufferPool.shared.statistics
      windows.append((after.hits - before.hits, after.misses - before.misses))
      if let last = windows.last, last.hits > 10 * max(last.misses, 1) { break }
    }
    #expect(windows.contains { $0.hits > 10 * max($0.misses, 1) }, "pool hits and misses per window: \(windows)")
  }
}

@Suite struct RandomGeneratorTests {
  /// Golden values: these must never change, or every seeded result in the project changes.
  @Test func sequenceIsFixed() {
    var rng = RandomGenerator(seed: 42)
    let first = (0..<3).map { _ in rng.next() }
    var again = RandomGenerator(seed: 42)
    #expect((0..<3).map { _ in again.next() } == first)
    var golden = RandomGenerator(seed: 0)
    #expect(golden.next() == 11_091_344_671_253_066_420)
  }

  @Test func distributions() {
    var rng = RandomGenerator(seed: 1)
    let n = 200_000
    var sum = 0.0, sq = 0.0
    for _ in 0..<n {
      let v = rng.normal()
      sum += v
      sq += v * v
    }
    #expect(abs(sum / Double(n)) < 0.01)
    #expect(abs(sq / Double(n) - 1) < 0.02)
    var counts = [Int](repeating: 0, count: 7)
    for _ in 0..<70_000 { counts[rng.int(below: 7)] += 1 }
    #expect(counts.allSatisfy { abs($0 - 10_000) < 500 })
    let u = (0..<10_000).map { _ in rng.uniformFloat() }
    #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
  }

  @Test func stateRoundTripsThroughCodable() throws {
    var rng = RandomGenerator(seed: 9)
    _ = rng.next()
    let data = try JSONEncoder().encode(rng)
    var back = try JSONDecoder().decode(RandomGenerator.self, from: data)
    #expect(back == rng)
    #expect(back.next() == rng.next())
  }
}

import Foundation
