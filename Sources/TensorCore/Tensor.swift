import GrapeSupport
/// A dense float32 tensor: a shape over a contiguous row-major buffer, with an optional link into
/// the autodiff graph.
///
/// `Tensor` is a value type over reference-counted ``Storage``: copies are cheap and share the
/// buffer; every op writes a new buffer, so sharing is safe. Images are NCHW.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let w = Tensor.randn([3, 4], using: &rng).requiringGrad()
/// let loss = (w * w).sum()
/// let g = gradients(of: loss, wrt: [w])[0]   // 2·w
/// ```
public struct Tensor: @unchecked Sendable {
  /// The elements, row-major.
  public let storage: Storage
  /// The extent of each axis.
  public let shape: [Int]
  /// The graph node that produced this tensor, or the leaf node of a tensor that requires a
  /// gradient; `nil` for constants.
  var node: GradNode?

  /// Wraps an existing buffer. `storage.count` must equal the product of `shape`.
  public init(storage: Storage, shape: [Int]) {
    precondition(
      shape.reduce(1, *) == storage.count,
      "Tensor: shape \(shape) needs \(shape.reduce(1, *)) elements, storage has \(storage.count)")
    self.storage = storage
    self.shape = shape
    self.node = nil
  }

  init(storage: Storage, shape: [Int], node: GradNode?) {
    self.storage = storage
    self.shape = shape
    self.node = node
  }

  /// A tensor holding a copy of `scalars` with the given shape.
  public init(_ scalars: [Float], shape: [Int]) {
    precondition(
      scalars.count == shape.reduce(1, *),
      "Tensor: \(scalars.count) scalars do not fill shape \(shape)")
    self.init(storage: Storage(scalars), shape: shape)
  }

  /// A rank-0 tensor.
  public init(_ scalar: Float) { self.init([scalar], shape: []) }

  /// A tensor whose buffer is left uninitialised; the caller fills it before sharing.
  public init(uninitializedShape shape: [Int]) {
    self.init(storage: Storage(uninitializedCount: shape.reduce(1, *)), shape: shape)
  }

  // MARK: - Factories

  /// A tensor filled with `value`.
  public static func full(_ shape: [Int], _ value: Float) -> Tensor {
    Tensor(storage: Storage(repeating: value, count: shape.reduce(1, *)), shape: shape)
  }

  /// A tensor of zeros.
  public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }

  /// A tensor of ones.
  public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

  /// Standard normal samples scaled by `std` and shifted by `mean`.
  public static func randn(
    _ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout RandomGenerator
  ) -> Tensor {
    let t = Tensor(uninitializedShape: shape)
    let p = t.storage.pointer
    for i in 0..<t.count { p[i] = mean + std * Float(rng.normal()) }
    return t
  }

  /// Uniform samples in [low, high).
  public static func uniform(
    _ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomGenerator
  ) -> Tensor {
    let t = Tensor(uninitializedShape: shape)
    let p = t.storage.pointer
    for i in 0..<t.count { p[i] = low + (high - low) * rng.uniformFloat() }
    return t
  }

  /// 0, 1, …, n−1 as floats.
  public static func arange(_ n: Int) -> Tensor {
    Tensor((0..<n).map { Float($0) }, shape: [n])
  }

  /// One-hot rows: `[indices.count, classes]`.
  public static func oneHot(_ indices: [Int], classes: Int) -> Tensor {
    let t = Tensor.zeros([indices.count, classes])
    for (i, c) in indices.enumerated() {
      precondition(c >= 0 && c < classes, "oneHot: index \(c) outside 0..<\(classes)")
      t.storage.pointer[i * classes + c] = 1
    }
    return t
  }

  // MARK: - Inspection

  /// Number of axes.
  public var rank: Int { shape.count }
  /// Number of elements.
  public var count: Int { storage.count }
  /// The elements as an array (a copy).
  public var scalars: [Float] { Array(storage.buffer) }
  /// The single element of a one-element tensor.
  public var item: Float {
    precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements")
    return storage.pointer[0]
  }
  /// Element at a flat row-major index.
  public subscript(flat i: Int) -> Float { storage.pointer[i] }

  /// Reads the elements.
  public func withUnsafeScalars<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(storage.buffer))
  }

  /// Writes the elements in place. Only for buffers nobody else reads (optimiser state and
  /// parameters between steps); the tensor must not be part of a live graph.
  public mutating func withUnsafeMutableScalars<R>(
    _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    try body(storage.buffer)
  }

  /// A copy with its own buffer and no graph link.
  public func copy() -> Tensor {
    let t = Tensor(uninitializedShape: shape)
    t.storage.pointer.update(from: storage.pointer, count: count)
    return t
  }
}

extension Tensor: CustomStringConvertible {
  /// Shape and the first few elements.
  public var description: String {
    let head = scalars.prefix(8).map { String(format3($0)) }.joined(separator: ", ")
    return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")])"
  }
}

private func format3(_ x: Float) -> String {
  let r = (Double(x) * 1000).rounded() / 1000
  return "\(r)"
}

/// Number of elements of a shape.
@inline(__always) public func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

/// Row-major strides of a shape.
public func contiguousStrides(_ shape: [Int]) -> [Int] {
  var strides = [Int](repeating: 1, count: shape.count)
  var acc = 1
  for i in stride(from: shape.count - 1, through: 0, by: -1) {
    strides[i] = acc
    acc *= shape[i]
  }
  return strides
}
