import Foundation
import TensorCore

/// The Jensen–Shannon divergence between the softmax predictions of two sets of logits (Eq. 14),
/// averaged over the batch, in nats:
///
/// ```
/// P = softmax(a), Q = softmax(b), M = ½(P + Q)
/// JS(P‖Q) = ½·KL(P‖M) + ½·KL(Q‖M),   KL(P‖M) = Σ_k P_k·(log P_k − log M_k)
/// ```
///
/// log P and log Q come from log-softmax and log M = logsumexp(log P, log Q) − log 2, so no
/// logarithm of a rounded-to-zero probability is ever taken; terms with P_k = 0 contribute 0.
/// Gradients flow to both arguments. The value lies in [0, log 2].
///
/// - Parameters:
///   - logitsP: [N, K], the clean predictions.
///   - logitsQ: [N, K], the perturbed predictions.
public func jensenShannon(logitsP: Tensor, logitsQ: Tensor) -> Tensor {
  precondition(logitsP.rank == 2 && logitsP.shape == logitsQ.shape, "jensenShannon: logits \(logitsP.shape) and \(logitsQ.shape) must both be [N, K]")
  let logP = logitsP.logSoftmax(axis: 1)
  let logQ = logitsQ.logSoftmax(axis: 1)
  let top = maximum(logP, logQ).detached()
  let logM = top + ((logP - top).exp() + (logQ - top).exp()).log() - Float(log(2.0))
  let klP = (logP.exp() * (logP - logM)).sum(axes: [1])
  let klQ = (logQ.exp() * (logQ - logM)).sum(axes: [1])
  return ((klP + klQ) * 0.5).mean()
}
