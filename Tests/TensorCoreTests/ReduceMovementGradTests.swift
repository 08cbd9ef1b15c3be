import Testing
import TensorCore
import TestSupport

/// Finite-difference checks and forward values of reductions and layout ops.
@Suite struct ReduceMovementGradTests {
  @Test(arguments: [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2], [-1]])
  func sumMeanVariance(_ axes: [Int]) {
    let x = randomTensor([2, 3, 4], seed: 11)
    gradCheck([x], "sum \(axes)") { $0[0].sum(axes: axes) }
    gradCheck([x], "sum keep \(axes)") { $0[0].sum(axes: axes, keepDims: true) }
    gradCheck([x], "mean \(axes)") { $0[0].mean(axes: axes) }
    gradCheck([x], eps: 1e-3, "variance \(axes)") { $0[0].variance(axes: axes) }
  }

  @Test func maxGradientGoesToArgmax() {
    let x = Tensor([1, 5, 3, 7, 2, 0], shape: [2, 3])
    #expect(x.max(axes: [1]).scalars == [5, 7])
    #expect(x.max().item == 7)
    let leaf = x.requiringGrad()
    let g = gradients(of: leaf.max(axes: [1]).sum(), wrt: [leaf])[0]
    #expect(g.scalars == [0, 1, 0, 1, 0, 0])
    gradCheck([randomTensor([3, 4], seed: 12)], eps: 1e-3, "max") { $0[0].max(axes: [0]) }
  }

  @Test func reductionValues() {
    let x = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
    #expect(x.sum(axes: [1]).scalars == [12, 15, 18, 21, 48, 51, 54, 57])
    #expect(x.sum(axes: [0, 2]).scalars == [60, 92, 124])
    #expect(x.sum().item == 276)
    #expect(x.mean(axes: [2]).shape == [2, 3])
    assertClose(x.variance(axes: [2]), Tensor.full([2, 3], 1.25))
    assertClose(x.variance(axes: [2], unbiased: true), Tensor.full([2, 3], 5.0 / 3))
  }

  @Test func layout() {
    let x = randomTensor([2, 3, 4], seed: 13)
    gradCheck([x], "reshape") { $0[0].reshaped([4, -1]) }
    gradCheck([x], "permute") { $0[0].permuted([2, 0, 1]) }
    gradCheck([x], "transpose") { $0[0].transposed() }
    gradCheck([x], "slice") { $0[0].slice(axis: 1, 1..<3) }
    gradCheck([x], "pad") { $0[0].padded(axis: 2, before: 1, total: 7) }
    gradCheck([x], "expand") { $0[0].reshaped([2, 3, 4, 1]).expanded(to: [2, 3, 4, 2]) }
    let y = randomTensor([2, 2, 4], seed: 14)
    gradCheck([x, y], "concat") { concat([$0[0], $0[1]], axis: 1) }
    gradCheck([x], "indexSelect") { $0[0].indexSelect([1, 0, 1]) }
    gradCheck([randomTensor([3, 4], seed: 15)], "scatterAdd") { $0[0].scatterAddRows([2, 0, 2], rows: 4) }
    gradCheck([randomTensor([3, 5], seed: 16)], "pick") { $0[0].pick([4, 0, 2]) }
  }

  @Test func layoutValues() {
    let x = Tensor((0..<6).map(Float.init), shape: [2, 3])
    #expect(x.transposed().scalars == [0, 3, 1, 4, 2, 5])
    #expect(x.slice(axis: 1, 1..<3).scalars == [1, 2, 4, 5])
    #expect(concat([x, x.slice(axis: 0, 0..<1)], axis: 0).scalars == [0, 1, 2, 3, 4, 5, 0, 1, 2])
    #expect(x.indexSelect([1, 1, 0]).scalars == [3, 4, 5, 3, 4, 5, 0, 1, 2])
    #expect(x.pick([2, 0]).scalars == [2, 3])
    let y = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
    let p = y.permuted([1, 2, 0])
    #expect(p.shape == [3, 4, 2])
    #expect(Array(p.scalars.prefix(4)) == [0, 12, 1, 13])
    let q = y.permuted([2, 0, 1])
    #expect(Array(q.scalars.prefix(6)) == [0, 4, 8, 12, 16, 20])
  }
}
