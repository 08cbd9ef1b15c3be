/// Reverse-mode automatic differentiation, define-by-run.
///
/// Every op that sees an input taking part in differentiation returns a tensor linked to a
/// ``GradNode``: the nodes of its inputs and a backward function that maps the gradient of the
/// output to the gradients of the inputs. Backward functions are written with differentiable
/// tensor ops, so with `createGraph: true` the gradients are themselves part of a graph and can be
/// differentiated again (R1 regularisation needs this).
///
/// Backward functions receive the upstream gradient as an argument and never capture the output
/// tensor of their own op (that would be a reference cycle: output → node → closure → output).

/// A vertex of the autodiff graph.
final class GradNode {
  /// Nodes of the inputs, `nil` for inputs that take no gradient.
  let inputs: [GradNode?]
  /// Maps the output gradient and a mask of inputs that need one to the input gradients.
  /// `nil` for leaves.
  let backward: ((Tensor, [Bool]) -> [Tensor?])?
  /// Shape of the tensor this node produced.
  let shape: [Int]

  init(inputs: [GradNode?], shape: [Int], backward: ((Tensor, [Bool]) -> [Tensor?])?) {
    self.inputs = inputs
    self.shape = shape
    self.backward = backward
  }

  var isLeaf: Bool { backward == nil }
}

/// Whether ops record the graph. Off inside ``withoutGradient(_:)`` and while computing gradients
/// without `createGraph`.
public enum GradMode {
  @TaskLocal static var enabled = true

  /// Whether ops currently record the autodiff graph.
  public static var isEnabled: Bool { enabled }
}

/// Runs `body` without recording the autodiff graph (like `torch.no_grad()`).
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
  try GradMode.$enabled.withValue(false, operation: body)
}

/// Runs `body` recording the graph even inside a no-grad region.
public func withGradient<R>(_ body: () throws -> R) rethrows -> R {
  try GradMode.$enabled.withValue(true, operation: body)
}

extension Tensor {
  /// Whether this tensor takes part in differentiation.
  public var requiresGrad: Bool { node != nil }

  /// The same values as a leaf that gradients can be taken with respect to.
  public func requiringGrad() -> Tensor {
    Tensor(storage: storage, shape: shape, node: GradNode(inputs: [], shape: shape, backward: nil))
  }

  /// The same values cut from the graph (like `torch.Tensor.detach`).
  public func detached() -> Tensor { Tensor(storage: storage, shape: shape, node: nil) }

  /// Identity of the graph node, for matching gradients to leaves.
  public var gradientID: ObjectIdentifier? { node.map(ObjectIdentifier.init) }

  /// Links `self` (a freshly computed output) to `inputs` with `backward`, when recording is on
  /// and some input takes part in differentiation. Returns `self` unchanged otherwise.
  ///
  /// `backward(g, needs)` returns one entry per input: its gradient, or `nil` where `needs[i]` is
  /// false or the input gets none.
  @inline(__always)
  func recording(_ inputs: [Tensor], _ backward: @escaping (Tensor, [Bool]) -> [Tensor?]) -> Tensor {
    var any = false
    for x in inputs where x.node != nil {
      any = true
      break
    }
    guard any, GradMode.isEnabled else { return self }
    let node = GradNode(inputs: inputs.map(\.node), shape: shape, backward: backward)
    return Tensor(storage: storage, shape: shape, node: node)
  }
}

/// Gradients of a scalar `output` with respect to each of `inputs`.
///
/// - Parameters:
///   - output: the value to differentiate; a one-element tensor unless `seed` is given.
///   - inputs: tensors that require gradients (leaves or intermediate results).
///   - seed: the gradient of some final value with respect to `output`; ones by default.
///   - createGraph: record the backward computation so the gradients can be differentiated again.
/// - Returns: one gradient per input, zeros where `output` does not depend on it.
public func gradients(
  of output: Tensor, wrt inputs: [Tensor], seed: Tensor? = nil, createGraph: Bool = false
) -> [Tensor] {
  precondition(
    seed != nil || output.count == 1,
    "gradients(of:wrt:): output of shape \(output.shape) is not a scalar; pass a seed")
  guard let root = output.node else { return inputs.map { Tensor.zeros($0.shape) } }
  let targets = Set(inputs.compactMap(\.gradientID))

  // Topological order (inputs before outputs) of the nodes reachable from the root.
  var order: [GradNode] = []
  var visited = Set<ObjectIdentifier>()
  var stack: [(GradNode, Int)] = [(root, 0)]
  visited.insert(ObjectIdentifier(root))
  while let (node, next) = stack.popLast() {
    if next < node.inputs.count {
      stack.append((node, next + 1))
      if let child = node.inputs[next], visited.insert(ObjectIdentifier(child)).inserted {
        stack.append((child, 0))
      }
    } else {
      order.append(node)
    }
  }

  // A node needs a gradient if it is a target or leads to one.
  var needed = Set<ObjectIdentifier>()
  for node in order {
    let id = ObjectIdentifier(node)
    if targets.contains(id) || node.inputs.contains(where: { $0.map { needed.contains(ObjectIdentifier($0)) } ?? false }) {
      needed.insert(id)
    }
  }

  var grads: [ObjectIdentifier: Tensor] = [:]
  let run = {
    grads[ObjectIdentifier(root)] = seed ?? Tensor.ones(output.shape)
    for node in order.reversed() {
      let id = ObjectIdentifier(node)
      guard needed.contains(id), let backward = node.backward, let g = grads[id] else { continue }
      if !targets.contains(id) { grads[id] = nil }  // free intermediate gradients early
      let needs = node.inputs.map { $0.map { needed.contains(ObjectIdentifier($0)) } ?? false }
      let inputGrads = backward(g, needs)
      for (i, input) in node.inputs.enumerated() {
        guard needs[i], let input, let gi = inputGrads[i] else { continue }
        precondition(
          gi.shape == input.shape,
          "autodiff: backward produced gradient of shape \(gi.shape) for input of shape \(input.shape)")
        let key = ObjectIdentifier(input)
        if let existing = grads[key] { grads[key] = existing + gi } else { grads[key] = gi }
      }
    }
  }
  if createGraph { withGradient(run) } else { withoutGradient(run) }
  return inputs.map { x in x.gradientID.flatMap { grads[$0] } ?? Tensor.zeros(x.shape) }
}
