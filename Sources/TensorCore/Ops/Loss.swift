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
