// 2-D convolution and its two gradient ops. The three ops are closed under differentiation:
// conv(x, w) is bilinear, so the gradient of each is another of the three, and gradients of
// gradients (R1) come for free.

/// 2-D convolution (cross-correlation, as PyTorch) of x [N, C, H, W] with w [O, C, kh, kw],
/// plus an optional bias [O].
public func conv2d(_ x: Tensor, weight w: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
  precondition(x.rank == 4 && w.rank == 4 && x.shape[1] == w.shape[1], "conv2d: input \(x.shape) does not fit weight \(w.shape)")
  let geo = Conv2dGeometry(
    batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
    outChannels: w.shape[0], kernelH: w.shape[2], kernelW: w.shape[3], stride: stride, padding: padding)
  precondition(geo.outHeight > 0 && geo.outWidth > 0, "conv2d: kernel \(w.shape[2])×\(w.shape[3]) larger than padded input \(x.shape)")
  let y = convCore(x, w, geo)
  guard let bias else { return y }
  precondition(bias.shape == [w.shape[0]], "conv2d: bias \(bias.shape) does not fit \(w.shape[0]) output channels")
  return y + bias.reshaped([1, w.shape[0], 1, 1])
}

/// y = conv(x, w) without bias.
func convCore(_ x: Tensor, _ w: Tensor, _ geo: Conv2dGeometry) -> Tensor {
  let y = Tensor(uninitializedShape: geo.outputShape)
  backend.conv2d(x.storage, w.storage, geo, into: y.storage)
  return y.recording([x, w]) { g, needs in
    [
      needs[0] ? conv2dBackwardInput(g, w, geo) : nil,
      needs[1] ? conv2dBackwardWeight(x, g, geo) : nil,
    ]
  }
}

/// The gradient of `conv2d` with respect to its input: the transposed convolution of gy
/// [N, O, Ho, Wo] with w, shaped like the input [N, C, H, W].
public func conv2dBackwardInput(_ gy: Tensor, _ w: Tensor, _ geo: Conv2dGeometry) -> Tensor {
  precondition(gy.shape == geo.outputShape && w.shape == geo.weightShape, "conv2dBackwardInput: shapes \(gy.shape), \(w.shape) do not fit \(geo)")
  let gx = Tensor(uninitializedShape: geo.inputShape)
  backend.conv2dBackwardInput(gy.storage, w.storage, geo, into: gx.storage)
  // gx = Aᵀ(w)·gy is linear in gy and in w: ⟨h, Aᵀ(w)gy⟩ = ⟨conv(h, w), gy⟩.
  return gx.recording([gy, w]) { h, needs in
    [
      needs[0] ? convCore(h, w, geo) : nil,
      needs[1] ? conv2dBackwardWeight(h, gy, geo) : nil,
    ]
  }
}

/// The gradient of `conv2d` with respect to its weight: the correlation of x with gy, shaped
/// like the weight [O, C, kh, kw].
public func conv2dBackwardWeight(_ x: Tensor, _ gy: Tensor, _ geo: Conv2dGeometry) -> Tensor {
  precondition(x.shape == geo.inputShape && gy.shape == geo.outputShape, "conv2dBackwardWeight: shapes \(x.shape), \(gy.shape) do not fit \(geo)")
  let gw = Tensor(uninitializedShape: geo.weightShape)
  backend.conv2dBackwardWeight(x.storage, gy.storage, geo, into: gw.storage)
  // ⟨h, gw(x, gy)⟩ = ⟨conv(x, h), gy⟩: linear in x and in gy.
  return gw.recording([x, gy]) { h, needs in
    [
      needs[0] ? conv2dBackwardInput(gy, h, geo) : nil,
      needs[1] ? convCore(x, h, geo) : nil,
    ]
  }
}
