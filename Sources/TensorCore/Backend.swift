/// Element-wise functions of one tensor that backends implement.
public enum UnaryOp: Sendable, Equatable {
  case neg, exp, log, sqrt, rsqrt, abs, sign, relu, sigmoid, tanh, softplus, square, reciprocal
  /// 1 where x > 0, else 0.
  case positive
  /// x for x > 0, slope·x otherwise.
  case leakyRelu(slope: Float)
  /// 1 for x > 0, slope otherwise (the derivative of leaky ReLU).
  case leakySlope(slope: Float)
  /// x^p.
  case pow(Float)
  /// min(max(x, low), high).
  case clamp(low: Float, high: Float)
  /// 1 where low < x < high, else 0.
  case inside(low: Float, high: Float)
  /// scale·x + shift.
  case affine(scale: Float, shift: Float)
}

/// Element-wise functions of two broadcast tensors.
public enum BinaryOp: Sendable, Equatable {
  case add, sub, mul, div, maximum, minimum
  /// 1 where a > b, else 0.
  case greater
  /// 1 where a == b, else 0.
  case equal
}

/// Reductions over axes.
public enum ReduceOp: Sendable, Equatable { case sum, max }

/// The geometry of a 2-D convolution on NCHW input with an [O, C, kh, kw] weight.
public struct Conv2dGeometry: Sendable, Equatable {
  public var batch, inChannels, height, width: Int
  public var outChannels, kernelH, kernelW: Int
  public var stride, padding: Int

  public init(
    batch: Int, inChannels: Int, height: Int, width: Int,
    outChannels: Int, kernelH: Int, kernelW: Int, stride: Int, padding: Int
  ) {
    self.batch = batch
    self.inChannels = inChannels
    self.height = height
    self.width = width
    self.outChannels = outChannels
    self.kernelH = kernelH
    self.kernelW = kernelW
    self.stride = stride
    self.padding = padding
  }

  /// Output height.
  public var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
  /// Output width.
  public var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
  /// Shape of the input.
  public var inputShape: [Int] { [batch, inChannels, height, width] }
  /// Shape of the weight.
  public var weightShape: [Int] { [outChannels, inChannels, kernelH, kernelW] }
  /// Shape of the output.
  public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }
  /// Multiply–adds of the forward pass, times two.
  public var flops: Double {
    2 * Double(batch * outChannels * outHeight * outWidth) * Double(inChannels * kernelH * kernelW)
  }
}

/// The kernels an accelerator must provide: no graph, no shapes checks beyond its own needs.
///
/// Ops in `Ops/` validate shapes, allocate outputs through ``allocate(_:)`` and call these.
/// Only ``CPUBackend`` exists; another backend conforms to this protocol and is installed with
/// ``Backends/current``, without changes to ops, layers or models. A kernel a backend lacks
/// throws ``TensorError/unsupported(op:backend:)`` through `unsupported(_:)`.
public protocol Backend: Sendable {
  /// A short name for messages ("cpu").
  var name: String { get }

  /// A new uninitialised buffer.
  func allocate(_ count: Int) -> Storage

  /// `y[i] = op(x[i])`.
  func unary(_ op: UnaryOp, _ x: Storage, into y: Storage)

  /// `out = op(a, b)` with NumPy broadcasting of `aShape` and `bShape` to `outShape`.
  func binary(
    _ op: BinaryOp, _ a: Storage, _ aShape: [Int], _ b: Storage, _ bShape: [Int],
    into out: Storage, _ outShape: [Int])

  /// Reduces `x` over `axes`; the output has the same rank with those axes of extent 1.
  func reduce(_ op: ReduceOp, _ x: Storage, _ shape: [Int], axes: [Int], into out: Storage)

  /// `out = x.permuted(perm)`.
  func permute(_ x: Storage, _ shape: [Int], _ perm: [Int], into out: Storage)

  /// Copies `x` viewed as [outer, srcAxis, inner], positions `srcStart ..< srcStart+length` of the
  /// middle axis, into `out` viewed as [outer, dstAxis, inner] at `dstStart`.
  func copyAxisRange(
    _ x: Storage, outer: Int, srcAxis: Int, srcStart: Int, inner: Int,
    into out: Storage, dstAxis: Int, dstStart: Int, length: Int)

  /// `out[i, :] = x[indices[i], :]` for rows of `rowSize` elements.
  func gatherRows(_ x: Storage, rowSize: Int, indices: [Int], into out: Storage)

  /// `out[indices[i], :] += g[i, :]`; `out` must be zeroed by the caller.
  func scatterAddRows(_ g: Storage, rowSize: Int, indices: [Int], into out: Storage)

  /// Batched `C[b] = alpha · op(A[b]) · op(B[b]) + beta · C[b]` on row-major matrices,
  /// A: [m, k] (or [k, m] transposed), B: [k, n] (or [n, k] transposed), C: [m, n].
  func gemm(
    batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    _ a: Storage, strideA: Int, _ b: Storage, strideB: Int, beta: Float,
    into c: Storage, strideC: Int)

  /// Forward 2-D convolution (no bias).
  func conv2d(_ x: Storage, _ w: Storage, _ g: Conv2dGeometry, into y: Storage)
  /// Gradient of the convolution with respect to its input: `gx = convᵀ(gy, w)`.
  func conv2dBackwardInput(_ gy: Storage, _ w: Storage, _ g: Conv2dGeometry, into gx: Storage)
  /// Gradient of the convolution with respect to its weight: `gw = corr(x, gy)`.
  func conv2dBackwardWeight(_ x: Storage, _ gy: Storage, _ g: Conv2dGeometry, into gw: Storage)

  /// 2×2 average pooling with stride 2 of [planes, h, w] (h, w even), times `scale`.
  func avgPool2x2(_ x: Storage, planes: Int, height: Int, width: Int, scale: Float, into y: Storage)
  /// Nearest-neighbour ×2 upsampling of [planes, h, w], times `scale`.
  func upsample2x(_ x: Storage, planes: Int, height: Int, width: Int, scale: Float, into y: Storage)

  /// Normalises each of `planes` rows of `size` values to zero mean and unit (biased)
  /// variance: y = (x − mean)·rstd with rstd = 1/√(var + eps); writes rstd per plane.
  func planeNormalize(_ x: Storage, planes: Int, size: Int, eps: Float, into y: Storage, rstd: Storage)
  /// The input gradient of ``planeNormalize(_:planes:size:eps:into:rstd:)`` from its output
  /// x̂ and rstd: gx = rstd·(g − mean(g) − x̂·mean(g·x̂)) per plane.
  func planeNormalizeBackward(_ g: Storage, normalized: Storage, rstd: Storage, planes: Int, size: Int, into gx: Storage)

  /// One Adam update of `count` parameters (``AdamUpdate``): updates the moments `m` and `v` in
  /// place and writes the new parameters to `out`.
  func adamUpdate(_ x: Storage, gradient: Storage, m: Storage, v: Storage, count: Int, _ settings: AdamUpdate, into out: Storage)
  /// `out[i] = source[i] + weight·(target[i] − source[i])` (`torch.lerp(source, target, weight)`),
  /// the weight-average update.
  func lerp(from source: Storage, to target: Storage, weight: Float, count: Int, into out: Storage)
}

/// The scalars of one Adam update (PyTorch's rule, L2 weight decay added to the gradient):
///
/// ```
/// g = gradientSign·∇ + weightDecay·θ;  m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²
/// θ ← θ − stepSize · m / (√v / secondMomentCorrectionRoot + eps)
/// ```
public struct AdamUpdate: Sendable, Equatable {
  public var beta1: Float
  public var beta2: Float
  /// −1 to ascend (maximise), 1 to descend.
  public var gradientSign: Float
  public var weightDecay: Float
  /// lr / (1 − β₁ᵗ).
  public var stepSize: Float
  /// √(1 − β₂ᵗ).
  public var secondMomentCorrectionRoot: Float
  public var eps: Float

  public init(beta1: Float, beta2: Float, gradientSign: Float, weightDecay: Float, stepSize: Float, secondMomentCorrectionRoot: Float, eps: Float) {
    self.beta1 = beta1
    self.beta2 = beta2
    self.gradientSign = gradientSign
    self.weightDecay = weightDecay
    self.stepSize = stepSize
    self.secondMomentCorrectionRoot = secondMomentCorrectionRoot
    self.eps = eps
  }
}

/// The backend that ops, optimisers and weight averages use.
public enum Backends {
  nonisolated(unsafe) private static var installed: any Backend = CPUBackend()

  /// The active backend: the CPU unless another was installed at start-up.
  public static var current: any Backend { installed }

  /// Makes `backend` the one every later op runs on. Call it once at start-up, before any tensor
  /// is made and before other threads run ops: tensors made by one backend are not moved to
  /// another.
  public static func install(_ backend: any Backend) { installed = backend }
}
