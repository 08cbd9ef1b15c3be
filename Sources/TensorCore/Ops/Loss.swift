// Softmax, losses and normalisation of vectors, composed of differentiable primitives.

extension Tensor {
  /// log softmax along `axis`, stabilised by subtracting the (constant) maximum.
  public func logSoftmax(axis: Int = -1) -> Tensor {
    let m = detached().max(axes: [axis], keepDims: true)
    let shifted = self - m
    return shifted - shifted.exp().sum(axes: [axis], keepDims: true).log()
  }

  /// softmax along `axis`.
  public func softmax(axis: Int = -1) -> Tensor { logSoftmax(axis: axis).exp() }

  /// Rows scaled to unit L2 norm along `axis`: x / max(‖x‖, eps) (as `F.normalize`).
  public func l2Normalized(axis: Int = -1, eps: Float = 1e-12) -> Tensor {
    let sq = square().sum(axes: [axis], keepDims: true)
    return self * maximum(sq, Tensor(eps * eps)).rsqrt()
  }
}

/// Mean cross-entropy of logits [N, K] against class indices (as `F.cross_entropy`).
public func crossEntropy(logits: Tensor, targets: [Int]) -> Tensor {
  precondition(logits.rank == 2 && logits.shape[0] == targets.count, "crossEntropy: logits \(logits.shape) for \(targets.count) targets")
  return -logits.logSoftmax(axis: 1).pick(targets).mean()
}

/// Mean cross-entropy of logits [N, K] against class indices with label smoothing ε (as
/// `F.cross_entropy(logits, targets, label_smoothing=ε)`): the target distribution puts
/// 1 − ε + ε/K on the class and ε/K on every other, so
///
/// ```
/// loss = (1 − ε) · mean_i(−log p_i,y_i) + ε · mean_i(mean_k −log p_i,k)
/// ```
///
/// ε = 0 is ``crossEntropy(logits:targets:)``. Composed of differentiable primitives.
public func crossEntropy(logits: Tensor, targets: [Int], labelSmoothing epsilon: Float) -> Tensor {
  precondition(logits.rank == 2 && logits.shape[0] == targets.count, "crossEntropy: logits \(logits.shape) for \(targets.count) targets")
  precondition(epsilon >= 0 && epsilon <= 1, "crossEntropy: label smoothing must lie in [0, 1], got \(epsilon)")
  let logp = logits.logSoftmax(axis: 1)
  let nll = -logp.pick(targets).mean()
  guard epsilon > 0 else { return nll }
  let uniform = -logp.mean()
  return nll * (1 - epsilon) + uniform * epsilon
}

/// Mean binary cross-entropy of logits against targets (as
/// `F.binary_cross_entropy_with_logits`): mean(softplus(x) − x·t).
public func binaryCrossEntropy(logits: Tensor, targets: Tensor) -> Tensor {
  (logits.softplus() - logits * targets).mean()
}

/// Mean binary cross-entropy of logits against one target value for all.
public func binaryCrossEntropy(logits: Tensor, target: Float) -> Tensor {
  target == 0 ? logits.softplus().mean() : (logits.softplus() - logits * target).mean()
}

/// Mean absolute difference (as `F.l1_loss`).
public func l1Loss(_ a: Tensor, _ b: Tensor) -> Tensor { (a - b).abs().mean() }

/// Mean squared difference (as `F.mse_loss`).
public func mseLoss(_ a: Tensor, _ b: Tensor) -> Tensor { (a - b).square().mean() }
