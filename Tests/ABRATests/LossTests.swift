import Foundation
import TensorCore
import TestSupport
import Testing

@testable import ABRA

@Suite struct LossTests {
  @Test(arguments: ["arcface_default", "arcface_easy", "arcface_small"])
  func arcFaceMatchesThePyTorchReference(caseName: String) throws {
    let fx = try abraFixture()
    let x = try fx.tensor(caseName, "x")
    let w = try fx.tensor(caseName, "w")
    let targets = try fx.ints(caseName, "targets")
    let margin = ArcFaceMargin(
      margin: Float(try fx.number(caseName, "margin")), scale: Float(try fx.number(caseName, "scale")), easyMargin: try fx.int(caseName, "easy") == 1)
    let logits = arcFaceLogits(features: x, weight: w, targets: targets, margin: margin)
    assertClose(logits, try fx.tensor(caseName, "logits"), rtol: 1e-4, atol: 2e-4, caseName)
    let loss = arcFaceLoss(features: x, weight: w, targets: targets, margin: margin)
    let expected = Float(try fx.number(caseName, "loss"))
    #expect(abs(loss.item - expected) < 1e-4 * max(1, expected), "\(caseName): \(loss.item) vs \(expected)")
  }

  @Test func theFixtureExercisesTheFallback() throws {
    let fx = try abraFixture()
    let cosines = try fx.tensor("arcface_default", "target_cosines").scalars
    let threshold = Float(cos(Double.pi - 0.5))
    #expect(cosines.contains { $0 < threshold } && cosines.contains { $0 > threshold })
  }

  @Test func marginLowersOnlyTheTargetLogit() {
    let x = randomTensor([4, 6], seed: 31)
    let w = randomTensor([3, 6], seed: 32)
    let targets = [0, 2, 1, 2]
    let cosine = cosineLogits(features: x, weight: w)
    let logits = arcFaceLogits(features: x, weight: w, targets: targets, margin: ArcFaceMargin(margin: 0.3, scale: 10))
    for i in 0..<4 {
      for j in 0..<3 {
        let c = cosine[flat: i * 3 + j]
        let l = logits[flat: i * 3 + j]
        if j == targets[i] {
          let expected = c > Float(cos(Double.pi - 0.3)) ? 10 * Float(cos(acos(Double(c)) + 0.3)) : 10 * (c - Float(sin(Double.pi - 0.3)) * 0.3)
          #expect(abs(l - expected) < 1e-4, "row \(i): \(l) vs \(expected)")
          #expect(l < 10 * c)
        } else {
          #expect(abs(l - 10 * c) < 1e-5)
        }
      }
    }
  }

  @Test(arguments: [false, true])
  func arcFaceGradients(easy: Bool) {
    let targets = [1, 0, 2, 2, 1]
    let x = randomTensor([5, 4], seed: 41)
    let w = randomTensor([3, 4], seed: 42)
    gradCheck([x, w], eps: 3e-3, rtol: 3e-2, atol: 3e-3, "arcface easy=\(easy)") { t in
      arcFaceLogits(features: t[0], weight: t[1], targets: targets, margin: ArcFaceMargin(margin: 0.5, scale: 4, easyMargin: easy))
    }
    gradCheck([x, w], eps: 3e-3, rtol: 3e-2, atol: 3e-3, "arcface loss easy=\(easy)") { t in
      arcFaceLoss(features: t[0], weight: t[1], targets: targets, margin: ArcFaceMargin(margin: 0.5, scale: 4, easyMargin: easy))
    }
  }

  @Test func arcFaceGradientIsFiniteAtAlignedFeatures() {
    // cos θ = 1 exactly: the clamp keeps sin θ's derivative finite.
    let w = Tensor([1, 0, 0, 1], shape: [2, 2]).requiringGrad()
    let x = Tensor([3, 0, 0, 2], shape: [2, 2]).requiringGrad()
    let loss = arcFaceLoss(features: x, weight: w, targets: [0, 1])
    let g = gradients(of: loss, wrt: [x, w])
    #expect(g.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
  }

  @Test func jensenShannonMatchesThePyTorchReference() throws {
    let fx = try abraFixture()
    let p = try fx.tensor("js", "p")
    let q = try fx.tensor("js", "q")
    let expected = Float(try fx.number("js", "js"))
    #expect(abs(jensenShannon(logitsP: p, logitsQ: q).item - expected) < 2e-5)
    let rows = try fx.tensor("js", "js_rows")
    for i in 0..<p.shape[0] {
      let v = jensenShannon(logitsP: p.slice(axis: 0, i..<(i + 1)), logitsQ: q.slice(axis: 0, i..<(i + 1))).item
      #expect(abs(v - rows[flat: i]) < 2e-5, "row \(i): \(v) vs \(rows[flat: i])")
    }
  }

  @Test func jensenShannonProperties() {
    let a = randomTensor([6, 5], seed: 51, std: 2)
    let b = randomTensor([6, 5], seed: 52, std: 2)
    #expect(abs(jensenShannon(logitsP: a, logitsQ: a).item) < 1e-6)
    #expect(abs(jensenShannon(logitsP: a, logitsQ: a + 3).item) < 1e-6)  // softmax is shift invariant
    let ab = jensenShannon(logitsP: a, logitsQ: b).item
    #expect(abs(ab - jensenShannon(logitsP: b, logitsQ: a).item) < 1e-6)
    #expect(ab > 0 && ab < Float(log(2.0)))
  }

  @Test func jensenShannonGradients() {
    let a = randomTensor([3, 4], seed: 61)
    let b = randomTensor([3, 4], seed: 62)
    gradCheck([a, b], eps: 1e-2, rtol: 3e-2, atol: 1e-3, "JS") { t in jensenShannon(logitsP: t[0], logitsQ: t[1]) }
  }

  @Test func hybridObjectiveMixesCrossEntropyAndArcFace() {
    let emb = randomTensor([4, 3], seed: 71)
    let logits = randomTensor([4, 5], seed: 72)
    let w = randomTensor([5, 3], seed: 73)
    let targets = [0, 4, 2, 2]
    let margin = ArcFaceMargin(margin: 0.4, scale: 12)
    let out = HeadOutput(logits: logits, embedding: emb)
    let ce = crossEntropy(logits: logits, targets: targets).item
    let arc = arcFaceLoss(features: emb, weight: w, targets: targets, margin: margin).item
    let hybrid = ABRAObjective(lambda: 0.3, margin: margin, terms: .ceArcJS).classification(out, arcWeight: w, targets: targets)
    #expect(abs(hybrid.total.item - (0.3 * ce + 0.7 * arc)) < 1e-4)
    let ceOnly = ABRAObjective(lambda: 0.3, margin: margin, terms: .ce).classification(out, arcWeight: nil, targets: targets)
    #expect(abs(ceOnly.total.item - ce) < 1e-6 && ceOnly.arc == nil)
  }
}
