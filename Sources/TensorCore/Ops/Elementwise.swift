// Element-wise ops with NumPy broadcasting. Each op's backward sits right after its forward;
// backward closures capture inputs (never the output) and are written with differentiable ops.

@inline(__always) var backend: any Backend { Backends.current }

/// The broadcast shape of two operands (NumPy rules), or a precondition failure naming the op.
public func broadcastShape(_ a: [Int], _ b: [Int], op: String = "broadcast") -> [Int] {
  if a == b { return a }
  let r = max(a.count, b.count)
  var out = [Int](repeating: 1, count: r)
  for i in 0..<r {
    let da = i < r - a.count ? 1 : a[i - (r - a.count)]
    let db = i < r - b.count ? 1 : b[i - (r - b.count)]
    precondition(da == db || da == 1 || db == 1, "\(op): shapes \(a) and \(b) do not broadcast")
    out[i] = da == 1 ? db : da
  }
  return out
}

extension Tensor {
  /// Applies a unary kernel into a fresh tensor (no graph link).
  @inline(__always)
  func mapKernel(_ op: UnaryOp) -> Tensor {
    let out = Tensor(uninitializedShape: shape)
    backend.unary(op, storage, into: out.storage)
    return out
  }

  /// Applies a binary kernel with broadcasting into a fresh tensor (no graph link).
  @inline(__always)
  static func zipKernel(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, name: String) -> Tensor {
    let shape = broadcastShape(a.shape, b.shape, op: name)
    let out = Tensor(uninitializedShape: shape)
    backend.binary(op, a.storage, a.shape, b.storage, b.shape, into: out.storage, shape)
    return out
  }

  /// Sums a broadcast gradient back to `target` (the adjoint of broadcasting).
  public func sumToShape(_ target: [Int]) -> Tensor {
    if shape == target { return self }
    let lead = rank - target.count
    var axes: [Int] = Array(0..<lead)
    for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
    let summed = axes.isEmpty ? self : sum(axes: axes, keepDims: true)
    return summed.reshaped(target)
  }

  /// This tensor broadcast to `target` (like `torch.Tensor.expand`, but materialised).
  public func expanded(to target: [Int]) -> Tensor {
    if shape == target { return self }
    let out = Tensor(uninitializedShape: broadcastShape(shape, target, op: "expanded(to:)"))
    precondition(out.shape == target, "expanded(to:): \(shape) does not broadcast to \(target)")
    let zero = Storage(repeating: 0, count: 1)
    backend.binary(.add, storage, shape, zero, [], into: out.storage, target)
    let inShape = shape
    return out.recording([self]) { g, _ in [g.sumToShape(inShape)] }
  }
}

// MARK: - Arithmetic

/// Element-wise sum with broadcasting.
public func + (a: Tensor, b: Tensor) -> Tensor {
  let y = Tensor.zipKernel(.add, a, b, name: "+")
  return y.recording([a, b]) { g, needs in
    [needs[0] ? g.sumToShape(a.shape) : nil, needs[1] ? g.sumToShape(b.shape) : nil]
  }
}

/// Element-wise difference with broadcasting.
public func - (a: Tensor, b: Tensor) -> Tensor {
  let y = Tensor.zipKernel(.sub, a, b, name: "-")
  return y.recording([a, b]) { g, needs in
    [needs[0] ? g.sumToShape(a.shape) : nil, needs[1] ? (-g).sumToShape(b.shape) : nil]
  }
}

/// Element-wise product with broadcasting.
public func * (a: Tensor, b: Tensor) -> Tensor {
  let y = Tensor.zipKernel(.mul, a, b, name: "*")
  return y.recording([a, b]) { g, needs in
    [needs[0] ? (g * b).sumToShape(a.shape) : nil, needs[1] ? (g * a).sumToShape(b.shape) : nil]
  }
}

/// Element-wise quotient with broadcasting.
public func / (a: Tensor, b: Tensor) -> Tensor {
  let y = Tensor.zipKernel(.div, a, b, name: "/")
  return y.recording([a, b]) { g, needs in
    [
      needs[0] ? (g / b).sumToShape(a.shape) : nil,
      needs[1] ? (-(g * a) / (b * b)).sumToShape(b.shape) : nil,
    ]
  }
}

/// Negation.
public prefix func - (x: Tensor) -> Tensor {
  let y = x.mapKernel(.neg)
  return y.recording([x]) { g, _ in [-g] }
}

/// `scale · x + shift` in one pass.
public func affine(_ x: Tensor, scale: Float, shift: Float) -> Tensor {
  let y = x.mapKernel(.affine(scale: scale, shift: shift))
  return y.recording([x]) { g, _ in [scale == 1 ? g : g * scale] }
}

public func + (a: Tensor, b: Float) -> Tensor { affine(a, scale: 1, shift: b) }
public func + (a: Float, b: Tensor) -> Tensor { affine(b, scale: 1, shift: a) }
public func - (a: Tensor, b: Float) -> Tensor { affine(a, scale: 1, shift: -b) }
public func - (a: Float, b: Tensor) -> Tensor { affine(b, scale: -1, shift: a) }
public func * (a: Tensor, b: Float) -> Tensor { affine(a, scale: b, shift: 0) }
public func * (a: Float, b: Tensor) -> Tensor { affine(b, scale: a, shift: 0) }
public func / (a: Tensor, b: Float) -> Tensor { affine(a, scale: 1 / b, shift: 0) }
public func / (a: Float, b: Tensor) -> Tensor { a * b.reciprocal() }

/// Element-wise maximum with broadcasting; ties send the gradient to `a`.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
  let y = Tensor.zipKernel(.maximum, a, b, name: "maximum")
  return y.recording([a, b]) { g, needs in
    let takeB = Tensor.zipKernel(.greater, b, a, name: "maximum")  // 1 where b wins
    return [
      needs[0] ? (g * (1 - takeB)).sumToShape(a.shape) : nil,
      needs[1] ? (g * takeB).sumToShape(b.shape) : nil,
    ]
  }
}

/// Element-wise minimum with broadcasting; ties send the gradient to `a`.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { -maximum(-a, -b) }

/// Picks `a` where `condition` is non-zero and `b` elsewhere (all broadcast). The condition
/// is a constant mask; gradients flow to `a` and `b`.
public func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
  let mask = 1 - condition.detached().equal(Tensor(0))  // 1 where the condition is non-zero
  return a * mask + b * (1 - mask)
}

// MARK: - Comparison masks (constants, no gradient)

extension Tensor {
  /// 1 where `self > other`, else 0 (broadcast; no gradient).
  public func greater(_ other: Tensor) -> Tensor { Tensor.zipKernel(.greater, self, other, name: "greater") }
  /// 1 where `self > value`, else 0 (no gradient).
  public func greater(_ value: Float) -> Tensor { greater(Tensor(value)) }
  /// 1 where `self == other`, else 0 (broadcast; no gradient).
  public func equal(_ other: Tensor) -> Tensor { Tensor.zipKernel(.equal, self, other, name: "equal") }
}

// MARK: - Unary functions

extension Tensor {
  /// e^x.
  public func exp() -> Tensor {
    let y = mapKernel(.exp)
    let value = y.detached()
    return y.recording([self]) { g, _ in [g * (GradMode.isEnabled ? self.exp() : value)] }
  }

  /// Natural logarithm.
  public func log() -> Tensor {
    let y = mapKernel(.log)
    return y.recording([self]) { g, _ in [g / self] }
  }

  /// Square root.
  public func sqrt() -> Tensor {
    let y = mapKernel(.sqrt)
    let value = y.detached()
    return y.recording([self]) { g, _ in [g * 0.5 / (GradMode.isEnabled ? self.sqrt() : value)] }
  }

  /// 1/√x.
  public func rsqrt() -> Tensor {
    let y = mapKernel(.rsqrt)
    let value = y.detached()
    return y.recording([self]) { g, _ in
      let r = GradMode.isEnabled ? self.rsqrt() : value
      return [g * (-0.5) * r * r * r]
    }
  }

  /// 1/x.
  public func reciprocal() -> Tensor {
    let y = mapKernel(.reciprocal)
    return y.recording([self]) { g, _ in [-g / (self * self)] }
  }

  /// x².
  public func square() -> Tensor {
    let y = mapKernel(.square)
    return y.recording([self]) { g, _ in [g * self * 2] }
  }

  /// x^p for a constant exponent.
  public func pow(_ p: Float) -> Tensor {
    if p == 2 { return square() }
    let y = mapKernel(.pow(p))
    return y.recording([self]) { g, _ in [g * p * self.pow(p - 1)] }
  }

  /// |x|; the gradient at 0 is 0.
  public func abs() -> Tensor {
    let y = mapKernel(.abs)
    return y.recording([self]) { g, _ in [g * self.detached().mapKernel(.sign)] }
  }

  /// max(x, 0).
  public func relu() -> Tensor {
    let y = mapKernel(.relu)
    return y.recording([self]) { g, _ in [g * self.detached().mapKernel(.positive)] }
  }

  /// x for x > 0, slope·x otherwise.
  public func leakyRelu(_ slope: Float = 0.2) -> Tensor {
    let y = mapKernel(.leakyRelu(slope: slope))
    return y.recording([self]) { g, _ in [g * self.detached().mapKernel(.leakySlope(slope: slope))] }
  }

  /// 1 / (1 + e^−x).
  public func sigmoid() -> Tensor {
    let y = mapKernel(.sigmoid)
    let value = y.detached()
    return y.recording([self]) { g, _ in
      let s = GradMode.isEnabled ? self.sigmoid() : value
      return [g * s * (1 - s)]
    }
  }

  /// log(1 + e^x), computed stably.
  public func softplus() -> Tensor {
    let y = mapKernel(.softplus)
    return y.recording([self]) { g, _ in [g * self.sigmoid()] }
  }

  /// Hyperbolic tangent.
  public func tanh() -> Tensor {
    let y = mapKernel(.tanh)
    let value = y.detached()
    return y.recording([self]) { g, _ in
      let t = GradMode.isEnabled ? self.tanh() : value
      return [g * (1 - t * t)]
    }
  }

  /// min(max(x, low), high); the gradient is zero where clamped.
  public func clamped(_ low: Float, _ high: Float) -> Tensor {
    let y = mapKernel(.clamp(low: low, high: high))
    return y.recording([self]) { g, _ in [g * self.detached().mapKernel(.inside(low: low, high: high))] }
  }
}
