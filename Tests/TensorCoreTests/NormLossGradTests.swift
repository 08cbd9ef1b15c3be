import Testing
import TensorCore
import TestSupport

/// Finite-difference checks of normalisations, softmax and losses.
@Suite struct NormLossGradTests {
  @Test func instanceNormGradients() {
    let x = randomTensor([2, 3, 3, 3], seed: 51)
    let w = randomTensor([3], seed: 52)
    let b = randomTensor([3], seed: 53)
    gradCheck([x], eps: 1e-3, rtol: 3e-2, atol: 5e-3, "instanceNorm") { instanceNorm($0[0]) }
    gradCheck([x, w, b], eps: 1e-3, rtol: 3e-2, atol: 5e-3, "instanceNorm affine") { instanceNorm($0[0], weight: $0[1], bias: $0[2]) }
  }

  @Test func batchNormGradients() {
    let x = randomTensor([4, 3, 2, 2], seed: 54)
    let w = randomTensor([3], seed: 55)
    let b = randomTensor([3], seed: 56)
    gradCheck([x, w, b], eps: 1e-3, rtol: 3e-2, atol: 5e-3, "batchNorm") {
      var stats = BatchNormStatistics(channels: 3)
      return batchNorm($0[0], weight: $0[1], bias: $0[2], running: &stats, training: true)
    }
  }

  @Test func softmaxAndLosses() {
    let logits = randomTensor([4, 5], seed: 57)
    gradCheck([logits], "logSoftmax") { $0[0].logSoftmax(axis: 1) }
    gradCheck([logits], "softmax") { $0[0].softmax(axis: 1) }
    gradCheck([logits], "crossEntropy") { crossEntropy(logits: $0[0], targets: [0, 3, 4, 1]) }
    gradCheck([logits], "crossEntropy label smoothing") { crossEntropy(logits: $0[0], targets: [0, 3, 4, 1], labelSmoothing: 0.2) }
    let t = Tensor([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1], shape: [4, 5])
    gradCheck([logits], "bce") { binaryCrossEntropy(logits: $0[0], targets: t) }
    gradCheck([logits], "bce const") { binaryCrossEntropy(logits: $0[0], target: 1) }
    let other = randomTensor([4, 5], seed: 58)
    gradCheck([logits, other], eps: 1e-3, "l1") { l1Loss($0[0], $0[1]) }
    gradCheck([logits, other], "mse") { mseLoss($0[0], $0[1]) }
    gradCheck([logits], eps: 1e-3, "l2Normalized") { $0[0].l2Normalized(axis: 1) }
  }

  @Test func labelSmoothingMatchesTheSmoothedTargetDistribution() {
    // PyTorch's label_smoothing=ε targets: 1 − ε + ε/K on the class, ε/K elsewhere; the loss is
    // the mean over rows of −Σ_k target_k · log p_k. numpy, float64:
    //   z = [[1, 2, .5], [.1, -1, 3]]; lp = z - log(exp(z).sum(1, keepdims=True))
    //   t = full((2, 3), .1); t[0, 1] = t[1, 0] = .8     (ε = 0.3, K = 3)
    //   -(t * lp).sum(1).mean() → 1.7525715015342178;  with ε = 0: 1.717571501534218
    let logits = Tensor([1, 2, 0.5, 0.1, -1, 3], shape: [2, 3])
    #expect(abs(crossEntropy(logits: logits, targets: [1, 0], labelSmoothing: 0.3).item - 1.7525715) < 1e-5)
    #expect(abs(crossEntropy(logits: logits, targets: [1, 0], labelSmoothing: 0).item - 1.7175715) < 1e-5)
    #expect(crossEntropy(logits: logits, targets: [1, 0], labelSmoothing: 0).item == crossEntropy(logits: logits, targets: [1, 0]).item)
  }

  @Test func softmaxRowsSumToOne() {
    let s = randomTensor([3, 7], seed: 59, std: 10).softmax(axis: 1).sum(axes: [1])
    assertClose(s, Tensor.ones([3]), rtol: 1e-5, atol: 1e-5)
  }

  @Test func batchNormRunningStatistics() {
    let x = Tensor([1, 2, 3, 4, 10, 20, 30, 40], shape: [4, 2])
    var stats = BatchNormStatistics(channels: 2)
    let y = batchNorm(x, weight: nil, bias: nil, running: &stats, training: true, momentum: 0.1)
    // Columns are (1, 3, 10, 30) and (2, 4, 20, 40): means 11 and 16.5, unbiased variances
    // 526/3 and 931/3.
    assertClose(stats.mean, Tensor([1.1, 1.65], shape: [2]), rtol: 1e-5)
    assertClose(stats.variance, Tensor([0.9 + 0.1 * 526 / 3, 0.9 + 0.1 * 931 / 3], shape: [2]), rtol: 1e-5)
    assertClose(y.mean(axes: [0]), Tensor.zeros([2]), atol: 1e-5)
    let eval = batchNorm(x, weight: nil, bias: nil, running: &stats, training: false)
    #expect(eval.shape == [4, 2])
  }
}

/// The fused instance-norm kernel against the composed definition, forward, backward and
/// second order.
@Suite struct FusedNormTests {
  func composed(_ x: Tensor) -> Tensor {
    let mu = x.mean(axes: [2, 3], keepDims: true)
    let c = x - mu
    return c * (c.square().mean(axes: [2, 3], keepDims: true) + 1e-5).rsqrt()
  }

  @Test func matchesComposition() {
    let x = randomTensor([2, 3, 4, 5], seed: 91, std: 2) + 1
    assertClose(instanceNorm(x), composed(x), rtol: 1e-4, atol: 1e-5)
    let r = randomTensor([2, 3, 4, 5], seed: 92)
    let xl = x.requiringGrad()
    let g1 = gradients(of: (instanceNorm(xl) * r).sum(), wrt: [xl])[0]
    let g2 = gradients(of: (composed(xl) * r).sum(), wrt: [xl])[0]
    assertClose(g1, g2, rtol: 1e-3, atol: 1e-4)
    // Second order through the differentiable form of the backward.
    let h1 = gradients(of: gradients(of: (instanceNorm(xl) * r).sum(), wrt: [xl], createGraph: true)[0].square().sum(), wrt: [xl])[0]
    let h2 = gradients(of: gradients(of: (composed(xl) * r).sum(), wrt: [xl], createGraph: true)[0].square().sum(), wrt: [xl])[0]
    assertClose(h1, h2, rtol: 1e-3, atol: 1e-3)
  }
}
