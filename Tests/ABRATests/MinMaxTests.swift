import GrapeSupport
import Foundation
import NeuralNet
import TensorCore
import TestSupport
import Testing

@testable import ABRA

/// A fixed batch and a small head: pooled features → linear logits, the pooled features as the
/// ArcFace embedding.
struct FixedProblem {
  let features: Tensor
  let targets: [Int]
  let head: GeneClassifierHead
  let layer: ABRALayer
  let noise: ABRALayer.Noise

  init(seed: UInt64 = 1) {
    var rng = RandomGenerator(seed: seed)
    features = Tensor.randn([9, 4, 2, 2], using: &rng) + 0.5
    targets = [0, 1, 2, 0, 1, 2, 0, 1, 2]
    head = GeneClassifierHead(dim: 4, classes: 3, rng: &rng)
    layer = ABRALayer(channels: 4)
    noise = layer.drawNoise(using: &rng)
  }

  var headFunction: (Tensor) -> HeadOutput { { [head] h in head.output(h.mean(axes: [2, 3])) } }
}

@Suite struct MinMaxTests {
  @Test(arguments: ABRALossTerms.allCases)
  func phaseOneRaisesTheAdversarialObjectiveAndLeavesTheNetwork(terms: ABRALossTerms) {
    let p = FixedProblem()
    let step = ABRAMinMaxStep(objective: ABRAObjective(terms: terms), stepSize: 0.05)
    let weightsBefore = p.head.stateDict()
    let before = step.adversarialObjective(layer: p.layer, features: p.features, noise: p.noise, targets: p.targets, arcWeight: p.head.arcW?.value, head: p.headFunction)
    let kBefore = p.layer.kMu.value.scalars + p.layer.kSigma.value.scalars
    let reported = step.adversarialPhase(layer: p.layer, features: p.features, noise: p.noise, targets: p.targets, arcWeight: p.head.arcW?.value, head: p.headFunction)
    let after = step.adversarialObjective(layer: p.layer, features: p.features, noise: p.noise, targets: p.targets, arcWeight: p.head.arcW?.value, head: p.headFunction)
    #expect(abs(reported - before) < 1e-5)
    #expect(after > before, "L_adv \(before) → \(after)")
    #expect(p.layer.kMu.value.scalars + p.layer.kSigma.value.scalars != kBefore)
    for (k, v) in p.head.stateDict() { #expect(v.scalars == weightsBefore[k]?.scalars, "\(k) changed in phase 1") }
  }

  @Test func adamAscentAlsoRaisesTheObjective() {
    let p = FixedProblem(seed: 2)
    let adam = Adam(parameters: p.layer.namedParameters(prefix: "abra"), learningRate: 0.05, maximize: true)
    let step = ABRAMinMaxStep(stepSize: 0, ascent: .adam(adam))
    var values: [Float] = []
    for _ in 0..<3 {
      values.append(step.adversarialPhase(layer: p.layer, features: p.features, noise: p.noise, targets: p.targets, arcWeight: p.head.arcW?.value, head: p.headFunction))
    }
    #expect(values[0] < values[1] && values[1] < values[2], "\(values)")
    #expect(adam.stepCount(of: "abra.k_mu") == 3)
  }

  @Test(arguments: ABRALossTerms.allCases)
  func phaseTwoDescentLowersTheRobustObjective(terms: ABRALossTerms) {
    let p = FixedProblem(seed: 3)
    let step = ABRAMinMaxStep(objective: ABRAObjective(terms: terms), stepSize: 0.05)
    step.adversarialPhase(layer: p.layer, features: p.features, noise: p.noise, targets: p.targets, arcWeight: p.head.arcW?.value, head: p.headFunction)
    let features = p.features.requiringGrad()
    let rob = step.robustPhase(layer: p.layer, features: features, noise: p.noise, targets: p.targets, arcWeight: p.head.arcW?.value, head: p.headFunction)
    // K is held fixed in phase 2: the loss does not depend on it through the graph.
    let kGrad = gradients(of: rob.total, wrt: [p.layer.kMu.value, p.layer.kSigma.value])
    #expect(kGrad.allSatisfy { $0.scalars.allSatisfy { $0 == 0 } })
    let params = p.head.parameters()
    accumulateGradients(of: rob.total, into: params)
    let featureGrad = gradients(of: rob.total, wrt: [features])[0]
    #expect(featureGrad.abs().sum().item > 0)
    for q in params {
      guard let g = q.grad else { continue }
      q.assign(q.value.detached() - g * 0.1)
      q.grad = nil
    }
    let again = step.robustPhase(layer: p.layer, features: p.features, noise: p.noise, targets: p.targets, arcWeight: p.head.arcW?.value, head: p.headFunction)
    #expect(again.total.item < rob.total.item, "L_rob \(rob.total.item) → \(again.total.item)")
  }

  @Test func lossSwitchesSelectTheTerms() {
    let p = FixedProblem(seed: 4)
    let arcW = p.head.arcW?.value
    func rob(_ terms: ABRALossTerms, js: Float = 1) -> ABRARobustLoss {
      ABRAMinMaxStep(objective: ABRAObjective(lambda: 0.4, terms: terms, jsWeight: js), stepSize: 0)
        .robustPhase(layer: p.layer, features: p.features, noise: p.noise, targets: p.targets, arcWeight: arcW, head: p.headFunction)
    }
    let ce = rob(.ce)
    #expect(ce.arcClean == 0 && ce.arcPerturbed == 0 && ce.jensenShannon == 0)
    #expect(abs(ce.total.item - 0.5 * (ce.ceClean + ce.cePerturbed)) < 1e-5)
    #expect(ce.ceClean != ce.cePerturbed)  // the perturbation is active
    let arc = rob(.ceArc)
    #expect(arc.arcClean > 0 && arc.jensenShannon == 0)
    let mixed = 0.4 * 0.5 * (arc.ceClean + arc.cePerturbed) + 0.6 * 0.5 * (arc.arcClean + arc.arcPerturbed)
    #expect(abs(arc.total.item - mixed) < 1e-4)
    let all = rob(.ceArcJS, js: 2.5)
    #expect(all.jensenShannon > 0)
    #expect(abs(all.total.item - (mixed + 2.5 * all.jensenShannon)) < 1e-4)
  }
}

@Suite struct BaselineTests {
  @Test func dsuMatchesTheReferenceCode() throws {
    let fx = try abraFixture()
    let layer = DSULayer()
    let y = layer.perturbed(try fx.tensor("dsu", "x"), noiseMu: try fx.tensor("dsu", "eps_mu"), noiseSigma: try fx.tensor("dsu", "eps_sigma"))
    assertClose(y, try fx.tensor("dsu", "y"), rtol: 1e-4, atol: 1e-4)
  }

  @Test func dsuPerturbsWithItsProbabilityAndNotInEvaluation() {
    let x = randomTensor([4, 2, 3, 3], seed: 3)
    var rng = RandomGenerator(seed: 1)
    #expect(DSULayer(probability: 0)(x, rng: &rng).scalars == x.scalars)
    #expect(DSULayer(probability: 1)(x, rng: &rng).scalars != x.scalars)
    let half = DSULayer()
    var changed = 0
    for _ in 0..<200 where half(x, rng: &rng).scalars != x.scalars { changed += 1 }
    #expect(changed > 70 && changed < 130, "perturbed \(changed) of 200 passes")
    half.eval()
    #expect(half(x, rng: &rng).scalars == x.scalars)
  }

  @Test func dsuGradients() {
    let layer = DSULayer()
    let e1 = randomTensor([4, 2], seed: 7)
    let e2 = randomTensor([4, 2], seed: 8)
    gradCheck([randomTensor([4, 2, 3, 3], seed: 9, std: 1.5)], eps: 1e-2, rtol: 3e-2, atol: 3e-3, "DSU") { t in
      layer.perturbed(t[0], noiseMu: e1, noiseSigma: e2)
    }
  }

  @Test func advStyleMatchesEquationFive() throws {
    let fx = try abraFixture()
    let y = AdvStyle.perturbed(try fx.tensor("advstyle", "x"), shiftMu: try fx.tensor("advstyle", "shift_mu"), shiftSigma: try fx.tensor("advstyle", "shift_sigma"))
    assertClose(y, try fx.tensor("advstyle", "y"), rtol: 1e-4, atol: 1e-4)
  }

  @Test func advStyleShiftsRaiseTheLoss() {
    var rng = RandomGenerator(seed: 5)
    let h = Tensor.randn([6, 3, 2, 2], using: &rng)
    let fc = Linear(3, 4, rng: &rng)
    let targets = [0, 1, 2, 3, 0, 1]
    let logits: (Tensor) -> Tensor = { fc($0.mean(axes: [2, 3])) }
    let shifts = AdvStyle.adversarialShifts(features: h, targets: targets, stepSize: 0.2, logits: logits)
    #expect(shifts.mu.shape == [6, 3] && !shifts.mu.requiresGrad)
    let clean = crossEntropy(logits: logits(h), targets: targets).item
    let zero = crossEntropy(logits: logits(AdvStyle.perturbed(h, shiftMu: Tensor.zeros([6, 3]), shiftSigma: Tensor.zeros([6, 3]))), targets: targets).item
    let adversarial = crossEntropy(logits: logits(AdvStyle.perturbed(h, shiftMu: shifts.mu, shiftSigma: shifts.sigma)), targets: targets).item
    #expect(abs(zero - clean) < 1e-4)  // Σ = 0 re-synthesises the features
    #expect(adversarial > clean, "CE \(clean) → \(adversarial)")
  }
}
