import GrapeSupport
import Foundation
import Testing
import TensorCore
import TestSupport
import NeuralNet

/// Adam against `torch.optim.Adam`, EMA, BatchNorm2d against PyTorch
/// (fixture: scripts/reference/neuralnet_reference.py).
@Suite struct OptimizerTests {
  let fx: ReferenceFixture

  init() throws {
    guard let url = Bundle.module.url(forResource: "torch_reference", withExtension: "json", subdirectory: "Fixtures") else {
      throw FixtureError.missing("Fixtures/torch_reference.json")
    }
    fx = try ReferenceFixture(url: url)
  }

  @Test(arguments: ["adam_default", "adam_grape", "adam_decay", "adam_maximize"])
  func adamMatchesTorch(_ name: String) throws {
    let hyper = try #require(fx.cases[name]?["hyper"] as? [String: Any])
    let betas = (hyper["betas"] as? [Double]) ?? [0.9, 0.999]
    let p = Parameter(try fx.tensor(name, "p0"))
    let adam = Adam(
      parameters: [("p", p)], learningRate: Float(hyper["lr"] as? Double ?? 1e-3),
      betas: (Float(betas[0]), Float(betas[1])), eps: Float(hyper["eps"] as? Double ?? 1e-8),
      weightDecay: Float(hyper["weight_decay"] as? Double ?? 0), maximize: hyper["maximize"] as? Bool ?? false)
    let grads = try fx.tensors(name, "grads")
    let trajectory = try fx.tensors(name, "trajectory")
    for (step, (g, expected)) in zip(grads, trajectory).enumerated() {
      p.grad = g
      adam.step()
      assertClose(p.value, expected, rtol: 1e-5, atol: 1e-6, "\(name) step \(step + 1)")
      #expect(p.grad == nil)
    }
    #expect(adam.stepCount(of: "p") == grads.count)
  }

  @Test func adamStateRoundTrip() throws {
    let name = "adam_decay"
    let grads = try fx.tensors(name, "grads")
    func make() throws -> (Parameter, Adam) {
      let p = Parameter(try fx.tensor(name, "p0"))
      return (p, Adam(parameters: [("p", p)], learningRate: 0.05, betas: (0.9, 0.99), eps: 1e-6, weightDecay: 0.1))
    }
    let (p1, a1) = try make()
    for g in grads { p1.grad = g; a1.step() }
    // Interrupted after three steps, state saved and restored into a fresh optimiser.
    let (p2, a2) = try make()
    for g in grads.prefix(3) { p2.grad = g; a2.step() }
    let saved = a2.state()
    let (p3, a3) = try make()
    p3.assign(p2.value)
    try a3.load(state: saved)
    for g in grads.dropFirst(3) { p3.grad = g; a3.step() }
    assertClose(p3.value, p1.value, rtol: 0, atol: 0, "resumed trajectory")
  }

  @Test func emaSchedules() {
    var rng = RandomGenerator(seed: 1)
    let source = Linear(2, 2, rng: &rng)
    let target = Linear(2, 2, rng: &rng)
    let t0 = target.weight.value.detached()
    let s0 = source.weight.value.detached()
    WeightAverage.blend(target: target, source: source, beta: 0.999)
    assertClose(target.weight.value, t0 * 0.999 + s0 * 0.001, rtol: 1e-6, atol: 1e-7)
    WeightAverage.copy(from: source, to: target)
    assertClose(target.weight.value, s0, rtol: 0, atol: 0)
    let periodic = EMASchedule.periodic(interval: 2500, factor: 0.5)
    #expect(periodic.beta(afterStep: 2499) == nil)
    #expect(periodic.beta(afterStep: 2500) == 0.5)
    #expect(EMASchedule.everyStep(beta: 0.999).beta(afterStep: 7) == 0.999)
  }

  @Test func batchNormModuleMatchesTorch() throws {
    let c = "batchnorm_module"
    let bn = BatchNorm2d(3)
    bn.weight.assign(Tensor([0.5, 1.5, -1.0], shape: [3]))
    bn.bias.assign(Tensor([0.1, -0.2, 0.3], shape: [3]))
    let xs = try fx.tensors(c, "x")
    let ys = try fx.tensors(c, "y_train")
    for (x, y) in zip(xs, ys) { assertClose(bn(x), y, rtol: 1e-4, atol: 1e-5, "train") }
    assertClose(bn.runningMean.value, try fx.tensor(c, "running_mean"), rtol: 1e-5, atol: 1e-6)
    assertClose(bn.runningVar.value, try fx.tensor(c, "running_var"), rtol: 1e-5, atol: 1e-6)
    #expect(bn.numBatchesTracked.value.item == Float(try fx.int(c, "num_batches_tracked")))
    bn.eval()
    assertClose(bn(xs[0]), try fx.tensor(c, "y_eval"), rtol: 1e-4, atol: 1e-5, "eval")
    #expect(bn.namedBuffers().map(\.0) == ["running_mean", "running_var", "num_batches_tracked"])
  }
}
