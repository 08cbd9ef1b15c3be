import GrapeSupport
import Foundation
import NeuralNet
import TensorCore
import TestSupport
import Testing

@testable import ABRA

@Suite struct ABRALayerTests {
  /// Channel mean and (biased) std over every axis but 1, in Float64.
  func channelStats(_ t: Tensor) -> (mean: [Double], std: [Double]) {
    let c = t.shape[1]
    let inner = t.rank == 4 ? t.shape[2] * t.shape[3] : 1
    let n = t.shape[0]
    var means: [Double] = []
    var stds: [Double] = []
    let v = t.scalars
    for ch in 0..<c {
      var xs: [Double] = []
      for i in 0..<n { for j in 0..<inner { xs.append(Double(v[(i * c + ch) * inner + j])) } }
      let m = xs.reduce(0, +) / Double(xs.count)
      means.append(m)
      stds.append((xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count)).squareRoot())
    }
    return (means, stds)
  }

  @Test(arguments: [[4, 3, 5, 5], [16, 5]])
  func perturbedStatisticsFollowTheFormula(shape: [Int]) {
    let c = shape[1]
    let layer = ABRALayer(channels: c)
    let x = randomTensor(shape, seed: 11, std: 1.7) + 0.4
    let noise = ABRALayer.Noise(mu: randomTensor([c], seed: 12), sigma: randomTensor([c], seed: 13, std: 0.5))
    let kMu = Tensor((0..<c).map { 0.2 + 0.15 * Float($0) }, shape: [1, c, 1, 1])
    let kSigma = Tensor((0..<c).map { 0.3 - 0.05 * Float($0) }, shape: [1, c, 1, 1])
    layer.kMu.assign(kMu)
    layer.kSigma.assign(kSigma)
    let y = layer(x, noise: noise)
    #expect(y.shape == x.shape)
    let (mx, sx) = channelStats(x)
    let (my, sy) = channelStats(y)
    for ch in 0..<c {
      let expectedMean = mx[ch] + Double(noise.mu[flat: ch]) * Double(kMu[flat: ch])
      let sigma = (sx[ch] * sx[ch] + 1e-6).squareRoot()
      let expectedStd = (sigma + Double(noise.sigma[flat: ch]) * Double(kSigma[flat: ch])) * sx[ch] / sigma
      #expect(abs(my[ch] - expectedMean) < 1e-4, "channel \(ch) mean \(my[ch]) vs \(expectedMean)")
      #expect(abs(sy[ch] - expectedStd) < 1e-4 * max(1, expectedStd), "channel \(ch) std \(sy[ch]) vs \(expectedStd)")
    }
    // Standardised values keep their order within a channel: X_t is an increasing affine map of X.
    let xs = x.scalars
    let ys = y.scalars
    let inner = x.count / (shape[0] * c)
    for i in 0..<(shape[0] - 1) {
      let a = i * c * inner
      let b = (i + 1) * c * inner
      #expect((xs[a] < xs[b]) == (ys[a] < ys[b]))
    }
  }

  @Test func scaleIsFlooredAtATenthOfTheBatchStd() {
    let layer = ABRALayer(channels: 2)
    let x = randomTensor([6, 2, 3, 3], seed: 5, std: 2)
    layer.kSigma.assign(Tensor([10, 0], shape: [1, 2, 1, 1]))
    layer.kMu.assign(Tensor.zeros([1, 2, 1, 1]))
    let y = layer(x, noise: ABRALayer.Noise(mu: Tensor([0, 0], shape: [2]), sigma: Tensor([-1, 0.5], shape: [2])))
    let (mx, sx) = channelStats(x)
    let (my, sy) = channelStats(y)
    #expect(abs(sy[0] - 0.1 * sx[0]) < 1e-4)
    #expect(abs(sy[1] - sx[1]) < 1e-4)  // K_σ = 0 leaves the channel as it was
    #expect(abs(my[0] - mx[0]) < 1e-4)
  }

  @Test func evaluationModeIsTheIdentityAndDrawsNothing() {
    let layer = ABRALayer(channels: 3)
    layer.eval()
    let x = randomTensor([2, 3, 4, 4], seed: 1)
    var rng = RandomGenerator(seed: 9)
    let before = rng
    let y = layer(x, rng: &rng)
    #expect(rng == before)
    #expect(y.scalars == x.scalars)
    let y2 = layer(x, noise: layer.drawNoise(using: &rng))
    #expect(y2.scalars == x.scalars)
    layer.train()
    #expect(layer(x, rng: &rng).scalars != x.scalars)
  }

  @Test func parametersAreNamedAndInitialised() {
    let layer = ABRALayer(channels: 5)
    let named = layer.namedParameters()
    #expect(named.map(\.0) == ["k_mu", "k_sigma"])
    #expect(named.allSatisfy { $0.1.shape == [1, 5, 1, 1] })
    #expect(layer.kMu.value.scalars == [Float](repeating: 0.1, count: 5))
  }

  @Test func ascentMovesKAlongTheGradientAndClamps() {
    let layer = ABRALayer(channels: 2, maxMagnitude: 0.5)
    layer.ascend(gradientMu: Tensor([1, -2], shape: [1, 2, 1, 1]), gradientSigma: Tensor([0.5, 100], shape: [1, 2, 1, 1]), stepSize: 0.1)
    assertClose(layer.kMu.value, Tensor([0.2, -0.1], shape: [1, 2, 1, 1]), atol: 1e-6)
    assertClose(layer.kSigma.value, Tensor([0.15, 0.5], shape: [1, 2, 1, 1]), atol: 1e-6)
    #expect(layer.kMu.value.requiresGrad)
  }

  @Test(arguments: [[3, 2, 3, 3], [5, 3]])
  func gradientsThroughTheLayer(shape: [Int]) {
    let c = shape[1]
    let layer = ABRALayer(channels: c)
    let noise = ABRALayer.Noise(mu: randomTensor([c], seed: 21), sigma: randomTensor([c], seed: 22, std: 0.3))
    let x = randomTensor(shape, seed: 23, std: 1.2) + 0.3
    let km = Tensor.full([1, c, 1, 1], 0.4) + randomTensor([1, c, 1, 1], seed: 24, std: 0.1)
    let ks = Tensor.full([1, c, 1, 1], 0.3) + randomTensor([1, c, 1, 1], seed: 25, std: 0.1)
    gradCheck([x, km, ks], eps: 1e-2, rtol: 3e-2, atol: 3e-3, "ABRA layer \(shape)") { t in
      layer.perturbed(t[0], noise: noise, kMu: t[1], kSigma: t[2])
    }
  }

  /// With `groups`, each group of consecutive samples is perturbed as the one-group layer
  /// perturbs it alone, with its own row of noise.
  @Test(arguments: [[6, 3, 4, 4], [8, 2]])
  func groupsArePerturbedAroundTheirOwnStatistics(shape: [Int]) {
    let (n, c, groups) = (shape[0], shape[1], shape[0] / 2)
    let grouped = ABRALayer(channels: c, groups: groups)
    let single = ABRALayer(channels: c)
    let x = randomTensor(shape, seed: 31, std: 1.3) + 0.2
    let noise = ABRALayer.Noise(mu: randomTensor([groups, c], seed: 32), sigma: randomTensor([groups, c], seed: 33, std: 0.4))
    let km = Tensor.full([1, c, 1, 1], 0.5)
    let ks = Tensor.full([1, c, 1, 1], 0.3)
    let y = grouped.perturbed(x, noise: noise, kMu: km, kSigma: ks)
    #expect(y.shape == x.shape)
    let per = x.count / n * (n / groups)
    for g in 0..<groups {
      var part = shape
      part[0] = n / groups
      let xg = Tensor(Array(x.scalars[g * per..<(g + 1) * per]), shape: part)
      let row = ABRALayer.Noise(
        mu: Tensor(Array(noise.mu.scalars[g * c..<(g + 1) * c]), shape: [c]),
        sigma: Tensor(Array(noise.sigma.scalars[g * c..<(g + 1) * c]), shape: [c]))
      let expected = single.perturbed(xg, noise: row, kMu: km, kSigma: ks)
      assertClose(Tensor(Array(y.scalars[g * per..<(g + 1) * per]), shape: part), expected, atol: 1e-5, "group \(g)")
    }
    var rng = RandomGenerator(seed: 3)
    #expect(grouped.drawNoise(using: &rng).mu.shape == [groups, c])
  }

  @Test(arguments: [[4, 2, 3, 3], [6, 3]])
  func gradientsThroughTheGroupedLayer(shape: [Int]) {
    let (c, groups) = (shape[1], 2)
    let layer = ABRALayer(channels: c, groups: groups)
    let noise = ABRALayer.Noise(mu: randomTensor([groups, c], seed: 41), sigma: randomTensor([groups, c], seed: 42, std: 0.3))
    let x = randomTensor(shape, seed: 43, std: 1.2) + 0.3
    let km = Tensor.full([1, c, 1, 1], 0.4) + randomTensor([1, c, 1, 1], seed: 44, std: 0.1)
    let ks = Tensor.full([1, c, 1, 1], 0.3) + randomTensor([1, c, 1, 1], seed: 45, std: 0.1)
    gradCheck([x, km, ks], eps: 1e-2, rtol: 3e-2, atol: 3e-3, "grouped ABRA layer \(shape)") { t in
      layer.perturbed(t[0], noise: noise, kMu: t[1], kSigma: t[2])
    }
  }

  @Test(arguments: ["abra_4d", "abra_2d"])
  func matchesThePyTorchReference(caseName: String) throws {
    let fx = try abraFixture()
    let x = try fx.tensor(caseName, "x")
    let c = x.shape[1]
    let layer = ABRALayer(channels: c)
    let noise = ABRALayer.Noise(mu: try fx.tensor(caseName, "eps_mu"), sigma: try fx.tensor(caseName, "eps_sigma"))
    let km = try fx.tensor(caseName, "k_mu").reshaped([1, c, 1, 1]).requiringGrad()
    let ks = try fx.tensor(caseName, "k_sigma").reshaped([1, c, 1, 1]).requiringGrad()
    let xl = x.requiringGrad()
    let y = layer.perturbed(xl, noise: noise, kMu: km, kSigma: ks)
    assertClose(y, try fx.tensor(caseName, "y"), rtol: 1e-4, atol: 1e-4, "\(caseName) y")
    let g = gradients(of: (y * (try fx.tensor(caseName, "projection"))).sum(), wrt: [xl, km, ks])
    assertClose(g[0], try fx.tensor(caseName, "grad_x"), rtol: 1e-3, atol: 1e-4, "\(caseName) grad x")
    assertClose(g[1].reshaped([c]), try fx.tensor(caseName, "grad_k_mu"), rtol: 1e-3, atol: 1e-4, "\(caseName) grad k_mu")
    assertClose(g[2].reshaped([c]), try fx.tensor(caseName, "grad_k_sigma"), rtol: 1e-3, atol: 1e-4, "\(caseName) grad k_sigma")
  }
}
