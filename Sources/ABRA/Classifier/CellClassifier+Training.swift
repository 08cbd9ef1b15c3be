import GrapeSupport
import NeuralNet
import TensorCore

/// The losses of one classifier step, as logged (0 where a method has no such term).
public struct ClassifierLosses: Sendable, Equatable {
  /// The objective that was descended.
  public var loss: Float = 0
  /// Cross-entropy of the clean features.
  public var ce: Float = 0
  /// Cross-entropy of the perturbed features (DSU: of the possibly perturbed pass).
  public var cePerturbed: Float = 0
  /// ArcFace loss, mean of clean and perturbed (ABRA).
  public var arc: Float = 0
  /// Jensen–Shannon divergence between clean and perturbed predictions (ABRA).
  public var js: Float = 0
  /// L_adv before phase 1's update of K (ABRA).
  public var adv: Float = 0
  /// Mean |K_μ| after the step (ABRA).
  public var kMu: Float = 0
  /// Mean |K_σ| after the step (ABRA).
  public var kSigma: Float = 0
  /// Accuracy of the clean predictions on the training mini-batch.
  public var accuracy: Float = 0
  /// The learning rate of the step (logged when scheduled).
  public var lr: Float = 0
  /// Accuracy on the validation cells scored while training (nil when the run measures none;
  /// NaN at steps that do not measure it).
  public var validationAccuracy: Float?

  /// All zeros.
  public init() {}

  /// Names and values in log order.
  public var fields: [(String, Float)] {
    [("loss", loss), ("ce", ce), ("ce_perturbed", cePerturbed), ("arc", arc), ("js", js), ("adv", adv), ("k_mu", kMu), ("k_sigma", kSigma), ("train_acc", accuracy)]
  }

  /// The first non-finite value, if any.
  public var firstNonFinite: (String, Float)? { fields.first { !$0.1.isFinite } }
}

/// Fraction of rows of `logits` [N, K] whose arg-max is the target.
func accuracy(logits: Tensor, targets: [Int]) -> Float {
  let predicted = argmaxRows(logits)
  let hits = zip(predicted, targets).filter { $0 == $1 }.count
  return targets.isEmpty ? 0 : Float(hits) / Float(targets.count)
}

/// The arg-max of every row of x [N, K] (the first index on ties).
func argmaxRows(_ x: Tensor) -> [Int] {
  let k = x.shape[1]
  return x.withUnsafeScalars { p in
    (0..<x.shape[0]).map { i in
      var best = 0
      for j in 1..<max(k, 1) where p[i * k + j] > p[i * k + best] { best = j }
      return best
    }
  }
}

extension CellClassifier {
  /// The objective of one training step for the model's method; the model must be in training
  /// mode. ABRA's phase 1 (the ascent on K) and AdvStyle's first pass run here, on BatchNorm
  /// statistics that are restored afterwards.
  ///
  /// - erm: CE(f(x)).
  /// - dsu: CE of the network with the DSU layer after the perturbation stage.
  /// - advstyle: ½·(CE(clean) + CE(perturbed by the adversarial Σ of pass 1)).
  /// - abra: phase 1 on K, then L_rob (Eq. 13).
  ///
  /// - Parameters:
  ///   - x: inputs [N, C, H, W] from one plate.
  ///   - genes: the class of each row.
  ///   - minMax: ABRA's min–max step (method `abra`).
  ///   - advStyleStepSize: AdvStyle's α.
  ///   - labelSmoothing: ε of every cross-entropy term (0: hard targets).
  ///   - rng: the training generator (noise, DSU coins).
  /// - Returns: the loss to descend with every parameter but K, and logged values.
  public func trainingLoss(
    images x: Tensor, genes: [Int], minMax: ABRAMinMaxStep?, advStyleStepSize: Float, labelSmoothing: Float = 0, rng: inout RandomGenerator
  ) -> (Tensor, ClassifierLosses) {
    var out = ClassifierLosses()
    let crossEntropy = { (logits: Tensor, targets: [Int]) in TensorCore.crossEntropy(logits: logits, targets: targets, labelSmoothing: labelSmoothing) }
    let stage = perturbStage
    let tailHead: (Tensor) -> HeadOutput = { h in self.head.output(self.backbone.tail(h, after: stage)) }
    switch method {
    case .erm:
      let logits = head(backbone(x))
      let ce = crossEntropy(logits, genes)
      out.ce = ce.item
      out.loss = out.ce
      out.accuracy = accuracy(logits: logits, targets: genes)
      return (ce, out)

    case .dsu:
      guard let dsu else { preconditionFailure("CellClassifier: method dsu without a DSU layer") }
      let h = dsu(backbone.trunk(x, upTo: stage), rng: &rng)
      let logits = tailHead(h).logits
      let ce = crossEntropy(logits, genes)
      out.ce = ce.item
      out.cePerturbed = out.ce
      out.loss = out.ce
      out.accuracy = accuracy(logits: logits, targets: genes)
      return (ce, out)

    case .advstyle:
      let h = backbone.trunk(x, upTo: stage)
      let shifts = withFrozenRunningStatistics {
        AdvStyle.adversarialShifts(features: h, targets: genes, stepSize: advStyleStepSize) { tailHead($0).logits }
      }
      let clean = tailHead(h).logits
      let perturbed = tailHead(AdvStyle.perturbed(h, shiftMu: shifts.mu, shiftSigma: shifts.sigma)).logits
      let ceC = crossEntropy(clean, genes)
      let ceP = crossEntropy(perturbed, genes)
      let loss = (ceC + ceP) * 0.5
      out.ce = ceC.item
      out.cePerturbed = ceP.item
      out.loss = loss.item
      out.accuracy = accuracy(logits: clean, targets: genes)
      return (loss, out)

    case .abra:
      guard let abra, let minMax else { preconditionFailure("CellClassifier: method abra without its layer or min–max step") }
      let h = backbone.trunk(x, upTo: stage)
      let noise = abra.drawNoise(using: &rng)
      let arcW = head.arcW?.value
      out.adv = withFrozenRunningStatistics {
        minMax.adversarialPhase(layer: abra, features: h, noise: noise, targets: genes, arcWeight: arcW, head: tailHead)
      }
      let rob = minMax.robustPhase(layer: abra, features: h, noise: noise, targets: genes, arcWeight: arcW, head: tailHead)
      out.loss = rob.total.item
      out.ce = rob.ceClean
      out.cePerturbed = rob.cePerturbed
      out.arc = 0.5 * (rob.arcClean + rob.arcPerturbed)
      out.js = rob.jensenShannon
      (out.kMu, out.kSigma) = abra.meanMagnitudes
      out.accuracy = accuracy(logits: rob.cleanLogits, targets: genes)
      return (rob.total, out)
    }
  }
}
