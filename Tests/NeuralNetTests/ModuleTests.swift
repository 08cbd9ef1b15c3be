import GrapeSupport
import Testing
import TensorCore
import TestSupport
@testable import NeuralNet

/// A small network shaped like StarGAN v2's naming: nested modules, arrays, optionals, a Sequential.
final class Block: Module {
  let conv1: Conv2d
  let norm1: InstanceNorm2d
  let conv1x1: Conv2d?
  let _scratch = Parameter(Tensor.zeros([1]))  // underscore: not part of the state

  init(_ cin: Int, _ cout: Int, rng: inout RandomGenerator) {
    conv1 = Conv2d(cin, cout, kernelSize: 3, padding: 1, rng: &rng)
    norm1 = InstanceNorm2d(cin, affine: true)
    conv1x1 = cin != cout ? Conv2d(cin, cout, kernelSize: 1, bias: false, rng: &rng) : nil
    super.init()
  }
}

final class Net: Module {
  let fromRGB: Conv2d
  let encode: [Block]
  let net: Sequential
  let geneEmbedding: Embedding

  init(rng: inout RandomGenerator) {
    fromRGB = Conv2d(3, 4, kernelSize: 3, padding: 1, rng: &rng)
    encode = [Block(4, 8, rng: &rng), Block(8, 8, rng: &rng)]
    net = Sequential([Linear(5, 6, rng: &rng), ReLU(), Linear(6, 2, rng: &rng)])
    geneEmbedding = Embedding(7, 5, rng: &rng)
    super.init()
  }
}

@Suite struct ModuleTests {
  @Test func namesFollowPyTorchStateDict() {
    var rng = RandomGenerator(seed: 1)
    let net = Net(rng: &rng)
    let names = net.namedParameters(prefix: "model").map(\.0)
    #expect(names == [
      "model.from_rgb.weight", "model.from_rgb.bias",
      "model.encode.0.conv1.weight", "model.encode.0.conv1.bias", "model.encode.0.norm1.weight", "model.encode.0.norm1.bias",
      "model.encode.0.conv1x1.weight",
      "model.encode.1.conv1.weight", "model.encode.1.conv1.bias", "model.encode.1.norm1.weight", "model.encode.1.norm1.bias",
      "model.net.0.weight", "model.net.0.bias", "model.net.2.weight", "model.net.2.bias",
      "model.gene_embedding.weight",
    ])
    #expect(net.namedParameters().first?.1.shape == [4, 3, 3, 3])
    #expect(net.parameterCount == 4 * 27 + 4 + (8 * 36 + 8 + 8 + 32) + (8 * 72 + 8 + 16) + (30 + 6 + 12 + 2) + 35)
  }

  @Test func snakeCaseConversion() {
    #expect(snakeCase("fromRGB") == "from_rgb")
    #expect(snakeCase("toRgb") == "to_rgb")
    #expect(snakeCase("conv1x1") == "conv1x1")
    #expect(snakeCase("kMu") == "k_mu")
    #expect(snakeCase("styleEncoder") == "style_encoder")
    #expect(snakeCase("arcW") == "arc_w")
  }

  @Test func freezeStopsGradients() {
    var rng = RandomGenerator(seed: 2)
    let layer = Linear(3, 2, rng: &rng)
    let x = Tensor.randn([4, 3], using: &rng).requiringGrad()
    layer.freeze()
    let y = layer(x).sum()
    accumulateGradients(of: y, into: layer.parameters())
    #expect(layer.weight.grad == nil)
    #expect(gradients(of: y, wrt: [x])[0].scalars.contains { $0 != 0 })
    layer.freeze(false)
    accumulateGradients(of: layer(x).sum(), into: layer.parameters())
    #expect(layer.weight.grad != nil)
  }

  @Test func gradientsAccumulate() {
    var rng = RandomGenerator(seed: 3)
    let layer = Linear(2, 1, bias: false, rng: &rng)
    let x = Tensor([1, 2], shape: [1, 2])
    accumulateGradients(of: layer(x).sum(), into: layer.parameters())
    accumulateGradients(of: layer(x).sum(), into: layer.parameters())
    #expect(layer.weight.grad?.scalars == [2, 4])
    zeroGradients(layer.parameters())
    #expect(layer.weight.grad == nil)
  }

  @Test func trainEvalModePropagates() {
    var rng = RandomGenerator(seed: 4)
    let net = Net(rng: &rng)
    net.eval()
    #expect(net.namedModules().allSatisfy { !$0.1.isTraining })
    net.train()
    #expect(net.encode[1].norm1.isTraining)
  }

  @Test func loadReportsMissingUnexpectedAndMisshapen() throws {
    var rng = RandomGenerator(seed: 5)
    let net = Net(rng: &rng)
    var state = net.stateDict(prefix: "m")
    let w = try #require(state["m.from_rgb.weight"])
    state["m.from_rgb.weight"] = nil
    state["m.extra"] = Tensor.zeros([1])
    let report = try net.load(state, prefix: "m", strict: false)
    #expect(report.missing == ["m.from_rgb.weight"])
    #expect(report.unexpected == ["m.extra"])
    state["m.from_rgb.weight"] = Tensor.zeros([1, 2])
    #expect(throws: StateDictError.self) { try net.load(state, prefix: "m", strict: false) }
    state["m.from_rgb.weight"] = w * 2
    state["m.extra"] = nil
    try net.load(state, prefix: "m")
    assertClose(net.fromRGB.weight.value, w * 2)
  }

  @Test func heInitialisationStatistics() {
    var rng = RandomGenerator(seed: 6)
    let conv = Conv2d(64, 128, kernelSize: 3, rng: &rng)
    let w = conv.weight.value
    let std = w.variance().item.squareRoot()
    #expect(abs(std - (2.0 / 576).squareRoot()) < 0.002)
    #expect(conv.bias?.value.scalars.allSatisfy { $0 == 0 } == true)
    let xavier = Initializer.xavierUniform.make([100, 50], using: &rng)
    let bound = (6.0 / 150).squareRoot()
    #expect(xavier.scalars.allSatisfy { abs($0) <= Float(bound) })
  }

  @Test func layerGradients() {
    var rng = RandomGenerator(seed: 8)
    let s = Tensor.randn([2, 3], using: &rng)
    let x = Tensor.randn([2, 4, 3, 3], using: &rng)
    let adain = AdaIN(styleDim: 3, channels: 4, rng: &rng)
    #expect(adain.namedParameters().map(\.0) == ["fc.weight", "fc.bias"])
    gradCheck([x, s], eps: 1e-3, rtol: 3e-2, atol: 5e-3, "AdaIN inputs") { v in adain(v[0], style: v[1]) }
    parameterGradCheck(adain.fc.weight, "AdaIN fc.weight") { adain(x, style: s) }
    parameterGradCheck(adain.fc.bias!, "AdaIN fc.bias") { adain(x, style: s) }
    let conv = Conv2d(4, 2, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
    parameterGradCheck(conv.weight, "Conv2d weight") { conv(x) }
    let inorm = InstanceNorm2d(4, affine: true)
    parameterGradCheck(inorm.weight!, "InstanceNorm2d weight") { inorm(x) * x }
    let bn = BatchNorm2d(4)
    parameterGradCheck(bn.bias, "BatchNorm2d bias") { bn(x) * x }
    let emb = Embedding(5, 3, rng: &rng)
    let table = emb.weight.value.detached()
    gradCheck([table], "Embedding") { v in v[0].indexSelect([4, 1, 4]) }
  }

  /// Finite differences of a layer's output with respect to one of its parameters, through
  /// ``accumulateGradients(of:into:createGraph:)``.
  func parameterGradCheck(
    _ p: Parameter, _ message: String, sourceLocation: SourceLocation = #_sourceLocation, _ f: () -> Tensor
  ) {
    let original = p.value.detached()
    var rng = RandomGenerator(seed: 99)
    let r = Tensor.randn(f().shape, using: &rng)
    p.grad = nil
    accumulateGradients(of: (f() * r).sum(), into: [p])
    let analytic = p.grad?.scalars ?? []
    let eps: Float = 1e-3
    var numeric: [Float] = []
    for i in 0..<original.count {
      var v = original.scalars
      v[i] += eps
      p.assign(Tensor(v, shape: original.shape))
      let lp = Double((f() * r).sum().item)
      v[i] -= 2 * eps
      p.assign(Tensor(v, shape: original.shape))
      let lm = Double((f() * r).sum().item)
      numeric.append(Float((lp - lm) / (2 * Double(eps))))
    }
    p.assign(original)
    p.grad = nil
    assertClose(analytic, numeric, rtol: 3e-2, atol: 5e-3, message, sourceLocation: sourceLocation)
  }

  @Test func adainMatchesDefinition() {
    var rng = RandomGenerator(seed: 9)
    let adain = AdaIN(styleDim: 2, channels: 3, rng: &rng)
    let x = Tensor.randn([1, 3, 2, 2], using: &rng)
    let s = Tensor.randn([1, 2], using: &rng)
    let h = adain.fc(s).scalars
    let n = instanceNorm(x).scalars
    let y = adain(x, style: s).scalars
    for c in 0..<3 {
      for i in 0..<4 {
        let expected = (1 + h[c]) * n[c * 4 + i] + h[3 + c]
        #expect(abs(y[c * 4 + i] - expected) < 1e-5)
      }
    }
  }
}
