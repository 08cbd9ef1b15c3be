import Foundation
import Testing
import TensorCore

/// The backend's optimiser kernels against their formulas evaluated in Float64.
@Suite struct OptimizerKernelTests {
  @Test(arguments: [Float(1), -1])
  func adamUpdateFollowsPyTorchsRule(sign: Float) {
    let n = 37
    let x = (0..<n).map { Float(sin(Double($0))) }
    let g = (0..<n).map { Float(cos(Double($0) * 1.3)) }
    let m0 = (0..<n).map { Float($0 % 5) * 0.01 }
    let v0 = (0..<n).map { Float($0 % 3) * 0.002 }
    let s = AdamUpdate(beta1: 0.9, beta2: 0.99, gradientSign: sign, weightDecay: 1e-2, stepSize: 1e-2 / 0.19, secondMomentCorrectionRoot: Float((1 - 0.99 * 0.99).squareRoot()), eps: 1e-8)
    let (xs, gs, ms, vs, out) = (Tensor(x, shape: [n]), Tensor(g, shape: [n]), Tensor(m0, shape: [n]), Tensor(v0, shape: [n]), Tensor(uninitializedShape: [n]))
    CPUBackend().adamUpdate(xs.storage, gradient: gs.storage, m: ms.storage, v: vs.storage, count: n, s, into: out.storage)
    for i in 0..<n {
      let grad = Double(sign) * Double(g[i]) + 1e-2 * Double(x[i])
      let m = 0.9 * Double(m0[i]) + 0.1 * grad
      let v = 0.99 * Double(v0[i]) + 0.01 * grad * grad
      let expected = Double(x[i]) - Double(s.stepSize) * m / (v.squareRoot() / Double(s.secondMomentCorrectionRoot) + 1e-8)
      #expect(abs(Double(ms.scalars[i]) - m) < 1e-6)
      #expect(abs(Double(vs.scalars[i]) - v) < 1e-6)
      #expect(abs(Double(out.scalars[i]) - expected) < 1e-5, "element \(i)")
    }
  }

  @Test func lerpBlendsTowardTheTarget() {
    let source = Tensor([0, 1, -2, 4], shape: [4])
    let target = Tensor([1, 1, 2, -4], shape: [4])
    let out = Tensor(uninitializedShape: [4])
    CPUBackend().lerp(from: source.storage, to: target.storage, weight: 0.25, count: 4, into: out.storage)
    #expect(out.scalars == [0.25, 1, -1, 2])
  }

  @Test func theCPUBackendIsInstalledByDefault() {
    #expect(Backends.current.name == "cpu")
  }
}
