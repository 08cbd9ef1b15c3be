import Testing
@testable import TensorCore
import TestSupport

/// Finite-difference checks of matrix products, convolution, pooling and upsampling.
@Suite struct MatMulConvGradTests {
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func matmul2D(_ ta: Bool, _ tb: Bool) {
    let a = randomTensor(ta ? [4, 3] : [3, 4], seed: 21)
    let b = randomTensor(tb ? [5, 4] : [4, 5], seed: 22)
    gradCheck([a, b], "matmul \(ta) \(tb)") { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
  }

  @Test func matmulBatchedAndLinear() {
    let a = randomTensor([2, 3, 4], seed: 23)
    let b = randomTensor([2, 4, 2], seed: 24)
    gradCheck([a, b], "batched") { matmul($0[0], $0[1]) }
    let w = randomTensor([4, 2], seed: 25)
    gradCheck([a, w], "batched × shared") { matmul($0[0], $0[1]) }
    let x = randomTensor([5, 4], seed: 26)
    let weight = randomTensor([3, 4], seed: 27)
    let bias = randomTensor([3], seed: 28)
    gradCheck([x, weight, bias], "linear") { linear($0[0], weight: $0[1], bias: $0[2]) }
  }

  @Test func matmulValues() {
    let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
    let b = Tensor([1, 0, 0, 1, 1, 1], shape: [3, 2])
    #expect(matmul(a, b).scalars == [4, 5, 10, 11])
    #expect(matmul(a, a, transposeB: true).scalars == [14, 32, 32, 77])
    #expect(matmul(a, a, transposeA: true).shape == [3, 3])
  }

  static let convCases: [(kernel: Int, stride: Int, padding: Int, size: Int)] = [
    (3, 1, 1, 5), (3, 2, 1, 6), (1, 1, 0, 4), (4, 1, 0, 4), (3, 1, 0, 5), (2, 2, 0, 4), (3, 2, 0, 7),
  ]

  @Test(arguments: convCases)
  func conv2dGradients(_ c: (kernel: Int, stride: Int, padding: Int, size: Int)) {
    let x = randomTensor([2, 3, c.size, c.size], seed: 31)
    let w = randomTensor([4, 3, c.kernel, c.kernel], seed: 32, std: 0.3)
    let b = randomTensor([4], seed: 33)
    gradCheck([x, w, b], "conv \(c)") { conv2d($0[0], weight: $0[1], bias: $0[2], stride: c.stride, padding: c.padding) }
  }

  @Test func convGradientOpsAreDifferentiable() {
    let geo = Conv2dGeometry(batch: 2, inChannels: 2, height: 5, width: 5, outChannels: 3, kernelH: 3, kernelW: 3, stride: 2, padding: 1)
    let gy = randomTensor(geo.outputShape, seed: 34)
    let w = randomTensor(geo.weightShape, seed: 35, std: 0.3)
    let x = randomTensor(geo.inputShape, seed: 36)
    gradCheck([gy, w], "backwardInput") { conv2dBackwardInput($0[0], $0[1], geo) }
    gradCheck([x, gy], "backwardWeight") { conv2dBackwardWeight($0[0], $0[1], geo) }
  }

  /// The batched im2col path (many small images per GEMM) against a direct loop.
  @Test func conv2dMatchesDirectLoop() {
    let x = randomTensor([9, 3, 6, 6], seed: 37)
    let w = randomTensor([5, 3, 3, 3], seed: 38)
    for (stride, pad) in [(1, 1), (2, 1), (1, 0), (1, 2)] {
      let y = conv2d(x, weight: w, stride: stride, padding: pad)
      assertClose(y, naiveConv2d(x, w, stride: stride, padding: pad), rtol: 1e-4, atol: 1e-4, "stride \(stride) pad \(pad)")
    }
  }

  @Test func pooling() {
    let x = randomTensor([2, 3, 4, 6], seed: 41)
    gradCheck([x], "avgPool") { $0[0].avgPool2x2() }
    gradCheck([x], "upsample") { $0[0].upsampleNearest2x() }
    let v = Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], shape: [1, 1, 4, 4])
    #expect(v.avgPool2x2().scalars == [3.5, 5.5, 11.5, 13.5])
    #expect(Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2]).upsampleNearest2x().scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
  }
}

/// The algorithmic reference: a direct 7-loop convolution.
func naiveConv2d(_ x: Tensor, _ w: Tensor, stride: Int, padding: Int) -> Tensor {
  let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
  let ho = (h + 2 * padding - kh) / stride + 1
  let wo = (wd + 2 * padding - kw) / stride + 1
  var out = [Float](repeating: 0, count: n * o * ho * wo)
  let xs = x.scalars, ws = w.scalars
  for b in 0..<n {
    for oc in 0..<o {
      for oy in 0..<ho {
        for ox in 0..<wo {
          var s: Float = 0
          for ic in 0..<c {
            for i in 0..<kh {
              for j in 0..<kw {
                let iy = oy * stride - padding + i, ix = ox * stride - padding + j
                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                s += xs[((b * c + ic) * h + iy) * wd + ix] * ws[((oc * c + ic) * kh + i) * kw + j]
              }
            }
          }
          out[((b * o + oc) * ho + oy) * wo + ox] = s
        }
      }
    }
  }
  return Tensor(out, shape: [n, o, ho, wo])
}

/// The column matrix of ``im2col`` (plane copies for "same" convolutions, rows otherwise)
/// against its definition.
@Suite struct Im2colTests {
  @Test(arguments: [
    (3, 1, 1, 4), (3, 1, 1, 9), (3, 1, 1, 32), (1, 1, 0, 5), (5, 1, 2, 7), (4, 1, 0, 4), (3, 2, 1, 6), (3, 1, 0, 5),
    (2, 1, 1, 5), (3, 2, 0, 7),
  ])
  func matchesDefinition(_ c: (Int, Int, Int, Int)) {
    let (k, stride, pad, size) = c
    let geo = Conv2dGeometry(batch: 3, inChannels: 2, height: size, width: size + 1, outChannels: 1, kernelH: k, kernelW: k, stride: stride, padding: pad)
    let x = randomTensor(geo.inputShape, seed: 83)
    let (ho, wo) = (geo.outHeight, geo.outWidth)
    let cols = geo.batch * ho * wo
    let col = Tensor(uninitializedShape: [2 * k * k, cols])
    col.storage.pointer.update(repeating: .nan, count: col.count)
    im2col(x.storage.pointer, geo, nb: geo.batch, col.storage.pointer)
    var expected = [Float](repeating: 0, count: col.count)
    for ch in 0..<2 {
      for i in 0..<k {
        for j in 0..<k {
          for n in 0..<geo.batch {
            for oy in 0..<ho {
              for ox in 0..<wo {
                let iy = oy * stride - pad + i, ix = ox * stride - pad + j
                let inside = iy >= 0 && iy < geo.height && ix >= 0 && ix < geo.width
                expected[((ch * k + i) * k + j) * cols + (n * ho + oy) * wo + ox] =
                  inside ? x[flat: ((n * 2 + ch) * geo.height + iy) * geo.width + ix] : 0
              }
            }
          }
        }
      }
    }
    #expect(col.scalars == expected, "\(c)")
  }
}

/// The Winograd F(2×2, 3×3) route against the im2col route, and gradients through it.
@Suite struct WinogradTests {
  // Every tile path: rows of 8 tiles (16 wide), of 4 tiles (8 and 24 wide), pairs of tile rows
  // (4 wide, even height), and one tile at a time (6, 2 and 4 wide with an odd tile-row count).
  @Test(arguments: [
    (3, 8, 5, 4, 4), (2, 16, 9, 8, 6), (1, 8, 8, 2, 2), (2, 12, 4, 10, 4), (2, 8, 3, 16, 16), (2, 8, 3, 8, 8), (1, 9, 4, 6, 24),
    (2, 8, 3, 4, 8), (1, 8, 3, 8, 4), (1, 8, 2, 6, 4),
  ])
  func matchesIm2col(_ c: (Int, Int, Int, Int, Int)) {
    let (n, ci, co, h, w) = c
    let geo = Conv2dGeometry(batch: n, inChannels: ci, height: h, width: w, outChannels: co, kernelH: 3, kernelW: 3, stride: 1, padding: 1)
    #expect(CPUBackend.usesWinograd(geo))
    let x = randomTensor(geo.inputShape, seed: 84)
    let k = randomTensor(geo.weightShape, seed: 85)
    let fast = Tensor(uninitializedShape: geo.outputShape)
    let reference = Tensor(uninitializedShape: geo.outputShape)
    let cpu = CPUBackend()
    cpu.winogradConv2d(x.storage, k.storage, geo, into: fast.storage)
    cpu.conv2dByIm2col(x.storage, k.storage, geo, into: reference.storage)
    assertClose(fast, reference, rtol: 1e-4, atol: 1e-4, "\(c)")
    assertClose(conv2d(x, weight: k, padding: 1), naiveConv2d(x, k, stride: 1, padding: 1), rtol: 1e-4, atol: 1e-4, "\(c) naive")
  }

  @Test func gradients() {
    let x = randomTensor([2, 8, 4, 4], seed: 86)
    let w = randomTensor([8, 8, 3, 3], seed: 87, std: 0.3)
    gradCheck([x, w], "winograd conv") { conv2d($0[0], weight: $0[1], padding: 1) }
  }
}

/// The flipped-kernel route of the input gradient against the col2im reference route.
@Suite struct ConvKernelRouteTests {
  @Test(arguments: [(3, 1, 1, 6), (3, 1, 0, 6), (4, 1, 0, 4), (2, 1, 1, 5), (3, 2, 1, 6), (1, 1, 0, 4)])
  func inputGradientRoutesAgree(_ c: (Int, Int, Int, Int)) {
    let (k, stride, pad, size) = c
    let geo = Conv2dGeometry(batch: 3, inChannels: 5, height: size, width: size, outChannels: 4, kernelH: k, kernelW: k, stride: stride, padding: pad)
    let gy = randomTensor(geo.outputShape, seed: 81)
    let w = randomTensor(geo.weightShape, seed: 82)
    let fast = Tensor(uninitializedShape: geo.inputShape)
    let reference = Tensor(uninitializedShape: geo.inputShape)
    let cpu = CPUBackend()
    cpu.conv2dBackwardInput(gy.storage, w.storage, geo, into: fast.storage)
    cpu.conv2dBackwardInputByCol2im(gy.storage, w.storage, geo, into: reference.storage)
    assertClose(fast, reference, rtol: 1e-4, atol: 1e-5, "\(c)")
  }
}
