import TensorCore

/// A layer with one input and one output.
public protocol UnaryLayer: Module {
  /// Applies the layer.
  func callAsFunction(_ x: Tensor) -> Tensor
}

/// Layers applied one after another, named `0`, `1`, … as `torch.nn.Sequential`; layers without
/// parameters (activations) still take an index.
public final class Sequential: Module, UnaryLayer {
  /// The layers, in order.
  public let layers: [Module]

  /// A sequence of unary layers.
  public init(_ layers: [any UnaryLayer]) {
    self.layers = layers
    super.init()
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    var h = x
    for layer in layers {
      guard let l = layer as? any UnaryLayer else { preconditionFailure("Sequential holds a non-unary layer \(type(of: layer))") }
      h = l(h)
    }
    return h
  }

  /// The layer at `index`.
  public subscript(index: Int) -> Module { layers[index] }

  override public func childName(for property: String) -> String {
    // The layers array is flattened into the sequence's own namespace: `net.0`, not `net.layers.0`.
    property == "layers" ? "" : super.childName(for: property)
  }
}

/// max(x, 0).
public final class ReLU: Module, UnaryLayer {
  public override init() { super.init() }
  public func callAsFunction(_ x: Tensor) -> Tensor { x.relu() }
}

/// x for x > 0, slope·x otherwise.
public final class LeakyReLU: Module, UnaryLayer {
  /// The negative slope.
  public let slope: Float
  /// A leaky ReLU with the given negative slope (0.2 in StarGAN v2).
  public init(_ slope: Float = 0.2) {
    self.slope = slope
    super.init()
  }
  public func callAsFunction(_ x: Tensor) -> Tensor { x.leakyRelu(slope) }
}
