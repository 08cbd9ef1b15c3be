import GrapeSupport
import Foundation
import NeuralNet
import Testing
import TensorCore
import TestSupport
@testable import GRAPE

/// The networks and one full training iteration against the PyTorch reference
/// (`Evaluation/scripts/grape_torch.py`; fixtures by `scripts/reference/grape_reference.py`:
/// tiny preset, 5 genes, batch 4, values computed in float64).
@Suite(.serialized) struct TorchReferenceTests {
  let io: [String: Tensor]
  let weights: [String: Tensor]
  let manifest: [String: Any]

  init() throws {
    func url(_ name: String, _ ext: String) throws -> URL {
      guard let u = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures") else {
        throw FixtureError.missing("Fixtures/\(name).\(ext)")
      }
      return u
    }
    io = try SafeTensors.read(try url("tiny_io", "safetensors").path).tensors
    weights = try SafeTensors.read(try url("tiny_weights", "safetensors").path).tensors
    manifest = (try JSONSerialization.jsonObject(with: Data(contentsOf: try url("tiny_manifest", "json")))) as? [String: Any] ?? [:]
  }

  func config() throws -> GRAPEConfig {
    var c = try GRAPEConfig.preset("tiny")
    c.applyPaperTraining()  // the fixture's Adam steps use GRAPE's learning rates
    c.genes = (0..<5).map { "g\($0)" }
    c.channels = ["a", "b", "c", "d"]
    return c
  }

  func loaded() throws -> GRAPENetworks {
    var rng = RandomGenerator(seed: 0)
    let n = GRAPENetworks(config: try config(), rng: &rng)
    try n.load(weights)
    return n
  }

  func t(_ name: String) throws -> Tensor {
    guard let v = io[name] else { throw FixtureError.missing(name) }
    return v
  }

  /// Relative L2 error ‖a − b‖ / ‖b‖.
  func relativeL2(_ a: Tensor, _ b: Tensor) -> Float {
    let d = (a - b).square().sum().item.squareRoot()
    let n = b.square().sum().item.squareRoot()
    return n > 0 ? d / n : d
  }

  @Test func parameterNamesAndShapes() throws {
    let data = try Data(contentsOf: try #require(Bundle.module.url(forResource: "tiny_names", withExtension: "json", subdirectory: "Fixtures")))
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let names = (json["shapes"] as? [String: [Int]]) ?? [:]
    let order = (json["order"] as? [String]) ?? []
    #expect(!names.isEmpty)
    let nets = try loaded()
    // The same order as PyTorch's state_dict.
    #expect(nets.namedParameters().map(\.0) == order)
    let ours = Dictionary(uniqueKeysWithValues: nets.namedParameters().map { ($0.0, $0.1.shape) })
    #expect(Set(ours.keys) == Set(names.keys), "names differ: \(Set(ours.keys).symmetricDifference(names.keys).sorted().prefix(8))")
    for (k, v) in names { #expect(ours[k] == v, "\(k): \(String(describing: ours[k])) vs \(v)") }
  }

  @Test func blocksAndNetworksMatch() throws {
    let n = try loaded()
    let g = n.generator
    assertClose(g.encode[0](try t("resblk_norm_down.x")), try t("resblk_norm_down.out"), rtol: 1e-4, atol: 1e-5, "ResBlk IN down")
    assertClose(g.encode[2](try t("resblk_norm_down_same.x")), try t("resblk_norm_down_same.out"), rtol: 1e-4, atol: 1e-5, "ResBlk down same")
    assertClose(g.encode[3](try t("resblk_norm.x")), try t("resblk_norm.out"), rtol: 1e-4, atol: 1e-5, "ResBlk IN")
    let plain = try #require(n.discriminator?.main[1] as? ResBlk)
    assertClose(plain(try t("resblk_plain_down.x")), try t("resblk_plain_down.out"), rtol: 1e-4, atol: 1e-5, "ResBlk plain")
    assertClose(g.decode[3].norm1(try t("adain.x"), style: try t("adain.s")), try t("adain.out"), rtol: 1e-4, atol: 1e-5, "AdaIN")
    assertClose(g.decode[3](try t("adainresblk_up.x"), style: try t("adainresblk_up.s")), try t("adainresblk_up.out"), rtol: 1e-4, atol: 1e-5, "AdainResBlk up")
    assertClose(g.decode[0](try t("adainresblk.x"), style: try t("adainresblk.s")), try t("adainresblk.out"), rtol: 1e-4, atol: 1e-5, "AdainResBlk")
    assertClose(n.geneEmbedding([4, 0, 2, 2]), try t("mapping.latent"), rtol: 1e-6, atol: 1e-6, "M[z]")
    assertClose(n.geneStyles([4, 0, 2, 2]), try t("mapping.s"), rtol: 1e-4, atol: 1e-5, "F(M[z])")
    assertClose(g(try t("generator.x"), style: try t("generator.s")), try t("generator.out"), rtol: 1e-3, atol: 1e-4, "G")
    assertClose(n.styleEncoder(try t("style_encoder.x")), try t("style_encoder.out"), rtol: 1e-4, atol: 1e-5, "E")
    let d = try #require(n.discriminator)
    assertClose(d.logits(try t("discriminator.x")), try t("discriminator.out"), rtol: 1e-4, atol: 1e-5, "D")
    assertClose(d(try t("discriminator.x"), genes: [1, 4, 0, 3]), try t("discriminator.out_y"), rtol: 1e-4, atol: 1e-5, "D_y")
  }

  @Test func backwardPassesMatch() throws {
    let n = try loaded()
    let x = try t("generator_vjp.x").requiringGrad()
    let s = try t("generator_vjp.s").requiringGrad()
    let out = n.generator(x, style: s)
    let params = n.generator.namedParameters(prefix: "generator")
    let grads = gradients(of: out, wrt: [x, s] + params.map(\.1.value), seed: try t("generator_vjp.cotangent"))
    #expect(relativeL2(grads[0], try t("generator_vjp.grad_x")) < 1e-3)
    #expect(relativeL2(grads[1], try t("generator_vjp.grad_s")) < 1e-3)
    for (i, (name, _)) in params.enumerated() {
      let expected = try t("generator_vjp.grad.\(name)")
      let e = relativeL2(grads[i + 2], expected)
      #expect(e < 2e-3 || expected.abs().max().item < 1e-6, "\(name): relative L2 \(e)")
    }
    let xd = try t("discriminator_vjp.x").requiringGrad()
    let d = try #require(n.discriminator)
    let dParams = d.namedParameters(prefix: "discriminator")
    let dg = gradients(of: d.logits(xd), wrt: [xd] + dParams.map(\.1.value), seed: try t("discriminator_vjp.cotangent"))
    #expect(relativeL2(dg[0], try t("discriminator_vjp.grad_x")) < 1e-4)
    for (i, (name, _)) in dParams.enumerated() {
      #expect(relativeL2(dg[i + 1], try t("discriminator_vjp.grad.\(name)")) < 1e-4, "\(name)")
    }
  }

  /// One full iteration (D step with R1, G step, Adam, EMA) from the same weights and inputs.
  @Test func trainingIterationMatches() throws {
    let c = try config()
    let n = try loaded()
    var rng = RandomGenerator(seed: 0)
    let ema = GRAPENetworks(config: c, withDiscriminator: false, rng: &rng)
    try ema.load(weights.filter { !$0.key.hasPrefix("discriminator") })
    let opt = GRAPEOptimizers(networks: n, config: c)
    let batch = GRAPEBatch(images: try t("step.x"), genes: [0, 2, 4, 1], targets: [3, 0, 4, 2])
    var losses = StepLosses()
    var timings = StepTimings()
    GRAPEStep.discriminator(n, opt, batch: batch, config: c, losses: &losses, timings: &timings, applyUpdates: false)
    #expect(abs(losses.dReal - (try t("step.d_step.loss.real")).item) < 1e-5)
    #expect(abs(losses.dFake - (try t("step.d_step.loss.fake")).item) < 1e-5)
    #expect(abs(losses.r1 - (try t("step.d_step.loss.r1")).item) < 1e-5)
    for (name, p) in n.namedParameters() where name.hasPrefix("discriminator.") {
      let e = relativeL2(try #require(p.grad), try t("grad.d_step.\(name)"))
      #expect(e < 1e-3, "D-step gradient \(name): relative L2 \(e)")
    }
    opt.discriminator.step()
    GRAPEStep.generator(n, opt, batch: batch, config: c, losses: &losses, timings: &timings, applyUpdates: false)
    #expect(abs(losses.gAdv - (try t("step.g_step.loss.adv")).item) < 1e-4)
    #expect(abs(losses.gCyc - (try t("step.g_step.loss.cycle")).item) < 1e-4)
    #expect(abs(losses.gSty - (try t("step.g_step.loss.style")).item) < 1e-4)
    var worst: (String, Float) = ("", 0)
    for (name, p) in n.namedParameters() where !name.hasPrefix("discriminator.") {
      let expected = try t("grad.g_step.\(name)")
      guard expected.abs().max().item > 1e-7 else { continue }  // analytically zero (biases before IN)
      let e = relativeL2(try #require(p.grad), expected)
      if e > worst.1 { worst = (name, e) }
    }
    // Float32 against float64 through G(G(x, s), E(x)): a few 1e-2 (see the manifest's notes).
    #expect(worst.1 < 5e-2, "worst G-step gradient \(worst.0): relative L2 \(worst.1)")
    opt.stepGenerators()
    var beyond = 0
    var total = 0
    for (name, p) in n.namedParameters() {
      let expected = try t("after_adam.\(name)")
      let diff = (p.value - expected).abs()
      total += diff.count
      beyond += diff.scalars.filter { $0 > 2.5e-4 }.count
      #expect(diff.max().item < 2.5e-4, "after Adam \(name): max difference \(diff.max().item)")
    }
    #expect(beyond == 0 && total > 0)
    var timing = StepTimings()
    GRAPEStep.updateAverage(ema: ema, networks: n, step: 1, config: c, timings: &timing)
    for (name, p) in ema.namedParameters() {
      assertClose(p.value, try t("after_ema.\(name)"), rtol: 1e-5, atol: 1e-6, "EMA \(name)")
    }
  }
}
