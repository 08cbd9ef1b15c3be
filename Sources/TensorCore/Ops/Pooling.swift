// 2×2 average pooling and nearest ×2 upsampling; each is (a multiple of) the other's adjoint.

extension Tensor {
  /// 2×2 average pooling with stride 2 of [N, C, H, W]; H and W must be even.
  public func avgPool2x2() -> Tensor { pooled(scale: 1) }

  /// 2×2 pooling times `scale` (1 for the average, 4 for the sum).
  func pooled(scale: Float) -> Tensor {
    precondition(rank == 4 && shape[2] % 2 == 0 && shape[3] % 2 == 0, "avgPool2x2: needs [N, C, H, W] with even H and W, got \(shape)")
    let out = Tensor(uninitializedShape: [shape[0], shape[1], shape[2] / 2, shape[3] / 2])
    backend.avgPool2x2(storage, planes: shape[0] * shape[1], height: shape[2], width: shape[3], scale: scale, into: out.storage)
    return out.recording([self]) { g, _ in [g.upsampled(scale: scale / 4)] }
  }

  /// Nearest-neighbour ×2 upsampling of [N, C, H, W].
  public func upsampleNearest2x() -> Tensor { upsampled(scale: 1) }

  /// Nearest ×2 upsampling times `scale`.
  func upsampled(scale: Float) -> Tensor {
    precondition(rank == 4, "upsampleNearest2x: needs [N, C, H, W], got \(shape)")
    let out = Tensor(uninitializedShape: [shape[0], shape[1], shape[2] * 2, shape[3] * 2])
    backend.upsample2x(storage, planes: shape[0] * shape[1], height: shape[2], width: shape[3], scale: scale, into: out.storage)
    // Adjoint of copying each pixel into a 2×2 block: the 2×2 sum, i.e. 4 × average.
    return out.recording([self]) { g, _ in [g.pooled(scale: 4 * scale)] }
  }
}
