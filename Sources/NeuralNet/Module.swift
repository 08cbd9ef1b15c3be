import GrapeSupport
import TensorCore

/// A trainable tensor owned by a layer.
///
/// The value is a leaf of the autodiff graph while the parameter is trainable; optimisers replace
/// or update it between steps. A frozen parameter's value takes no gradient, so graphs through
/// the layer record only what flows to the layer's inputs.
public final class Parameter {
  /// The current value.
  public var value: Tensor
  /// The accumulated gradient, if any (see ``accumulateGradients(of:into:createGraph:)``).
  public var grad: Tensor?
  /// Whether gradients are taken with respect to this parameter.
  public private(set) var isTrainable: Bool

  /// A trainable parameter holding `value`.
  public init(_ value: Tensor, trainable: Bool = true) {
    self.isTrainable = trainable
    self.value = trainable ? value.detached().requiringGrad() : value.detached()
  }

  /// Shape of the value.
  public var shape: [Int] { value.shape }

  /// Replaces the value, keeping the trainable state.
  public func assign(_ newValue: Tensor) {
    precondition(newValue.shape == value.shape, "Parameter.assign: shape \(newValue.shape) != \(value.shape)")
    value = isTrainable ? newValue.detached().requiringGrad() : newValue.detached()
  }

  /// Turns gradient tracking on or off.
  public func setTrainable(_ on: Bool) {
    guard on != isTrainable else { return }
    isTrainable = on
    value = on ? value.detached().requiringGrad() : value.detached()
  }
}

/// A non-trainable tensor that is part of a module's state (BatchNorm running statistics).
public final class Buffer {
  /// The current value.
  public var value: Tensor
  /// A buffer holding `value`.
  public init(_ value: Tensor) { self.value = value.detached() }
}

/// The base class of layers and networks.
///
/// Parameters, buffers and submodules are found by reflection over stored properties, in
/// declaration order (superclass properties first), and named as PyTorch's `state_dict` does:
/// a property `conv1` of a child `encode[0]` of `generator` gives `generator.encode.0.conv1.weight`.
/// Swift's camelCase property names become snake_case (`fromRGB` → `from_rgb`); arrays of modules
/// are numbered; properties whose name starts with `_` are skipped; a subclass may rename children
/// by overriding ``childName(for:)``.
///
/// ```swift
/// final class Block: Module {
///   let conv1 = Conv2d(8, 8, kernelSize: 3, padding: 1, rng: &rng)
///   let norm1 = InstanceNorm2d(8, affine: true)
/// }
/// ```
open class Module {
  /// Whether the module is in training mode (BatchNorm uses batch statistics, ABRA perturbs).
  public private(set) var isTraining = true

  public init() {}

  /// The name under which the property `property` appears in parameter names.
  open func childName(for property: String) -> String { snakeCase(property) }

  /// Children found by reflection: parameters, buffers and submodules, with their names.
  public final func children() -> [(String, Any)] {
    var mirrors: [Mirror] = []
    var m: Mirror? = Mirror(reflecting: self)
    while let current = m {
      mirrors.append(current)
      m = current.superclassMirror
    }
    var out: [(String, Any)] = []
    for mirror in mirrors.reversed() {
      for child in mirror.children {
        guard let label = child.label, !label.hasPrefix("_"), label != "isTraining" else { continue }
        let name = childName(for: label)
        switch child.value {
        case let p as Parameter: out.append((name, p))
        case let b as Buffer: out.append((name, b))
        case let mod as Module: out.append((name, mod))
        case let mods as [Module]:
          for (i, mod) in mods.enumerated() { out.append((name.isEmpty ? "\(i)" : "\(name).\(i)", mod)) }
        default: continue
        }
      }
    }
    return out
  }

  /// Every parameter with its dotted name, in a stable order.
  public final func namedParameters(prefix: String = "") -> [(String, Parameter)] {
    var out: [(String, Parameter)] = []
    for (name, child) in children() {
      let full = prefix.isEmpty ? name : "\(prefix).\(name)"
      if let p = child as? Parameter { out.append((full, p)) }
      if let m = child as? Module { out += m.namedParameters(prefix: full) }
    }
    return out
  }

  /// Every buffer with its dotted name.
  public final func namedBuffers(prefix: String = "") -> [(String, Buffer)] {
    var out: [(String, Buffer)] = []
    for (name, child) in children() {
      let full = prefix.isEmpty ? name : "\(prefix).\(name)"
      if let b = child as? Buffer { out.append((full, b)) }
      if let m = child as? Module { out += m.namedBuffers(prefix: full) }
    }
    return out
  }

  /// Every submodule (recursively), with dotted names; the module itself has name `prefix`.
  public final func namedModules(prefix: String = "") -> [(String, Module)] {
    var out: [(String, Module)] = [(prefix, self)]
    for (name, child) in children() {
      if let m = child as? Module { out += m.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)") }
    }
    return out
  }

  /// The parameters without names.
  public final func parameters() -> [Parameter] { namedParameters().map(\.1) }

  /// Number of scalar parameters.
  public final var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

  /// Sets training (true) or evaluation (false) mode for this module and all submodules.
  public final func train(_ on: Bool = true) {
    for (_, m) in namedModules() { m.isTraining = on }
  }

  /// Evaluation mode (like `module.eval()`).
  public final func eval() { train(false) }

  /// Stops (or restarts) gradient tracking for every parameter.
  public final func freeze(_ frozen: Bool = true) {
    for p in parameters() { p.setTrainable(!frozen) }
  }

  /// Parameters and buffers by name, as PyTorch's `state_dict`.
  public final func stateDict(prefix: String = "") -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (n, p) in namedParameters(prefix: prefix) { out[n] = p.value.detached() }
    for (n, b) in namedBuffers(prefix: prefix) { out[n] = b.value }
    return out
  }

  /// Copies tensors from `state` into parameters and buffers of the same name.
  ///
  /// - Parameters:
  ///   - state: tensors by name (e.g. read from safetensors).
  ///   - prefix: the name of this module inside `state` (e.g. `generator`).
  ///   - strict: throw when a name is missing or unexpected.
  /// - Returns: what did not match, by name.
  /// - Throws: ``StateDictError`` when shapes differ, or names differ and `strict` is set.
  @discardableResult
  public final func load(_ state: [String: Tensor], prefix: String = "", strict: Bool = true) throws -> LoadReport {
    var report = LoadReport()
    let params = namedParameters(prefix: prefix)
    let buffers = namedBuffers(prefix: prefix)
    var known = Set<String>()
    for (name, p) in params {
      known.insert(name)
      guard let t = state[name] else {
        report.missing.append(name)
        continue
      }
      if t.shape != p.shape { report.mismatched.append((name, expected: p.shape, found: t.shape)) } else { p.assign(t) }
    }
    for (name, b) in buffers {
      known.insert(name)
      guard let t = state[name] else {
        report.missing.append(name)
        continue
      }
      if t.shape != b.value.shape { report.mismatched.append((name, expected: b.value.shape, found: t.shape)) } else { b.value = t.detached() }
    }
    let scope = prefix.isEmpty ? "" : prefix + "."
    report.unexpected = state.keys.filter { $0.hasPrefix(scope) && !known.contains($0) }.sorted()
    if !report.mismatched.isEmpty || (strict && (!report.missing.isEmpty || !report.unexpected.isEmpty)) {
      throw StateDictError.mismatch(report)
    }
    return report
  }
}

/// What ``Module/load(_:prefix:strict:)`` could not match.
public struct LoadReport: Sendable, CustomStringConvertible {
  /// Names the module has and the state lacks.
  public var missing: [String] = []
  /// Names in the state (under the prefix) that the module lacks.
  public var unexpected: [String] = []
  /// Names whose shapes differ.
  public var mismatched: [(String, expected: [Int], found: [Int])] = []

  public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

  public var description: String {
    var parts: [String] = []
    if !missing.isEmpty { parts.append("missing: \(missing.prefix(10).joined(separator: ", "))\(missing.count > 10 ? " (+\(missing.count - 10) more)" : "")") }
    if !unexpected.isEmpty { parts.append("unexpected: \(unexpected.prefix(10).joined(separator: ", "))\(unexpected.count > 10 ? " (+\(unexpected.count - 10) more)" : "")") }
    if !mismatched.isEmpty {
      parts.append("shape mismatch: " + mismatched.prefix(10).map { "\($0.0) expected \($0.expected) found \($0.found)" }.joined(separator: ", "))
    }
    return parts.joined(separator: "; ")
  }
}

/// Errors loading a state into a module.
public enum StateDictError: Error, CustomStringConvertible {
  case mismatch(LoadReport)

  public var description: String {
    switch self {
    case .mismatch(let r): return "weights do not fit the model: \(r)"
    }
  }
}

/// Computes gradients of `loss` for `parameters` and adds them to each one's `grad`.
///
/// Frozen parameters are skipped. With `createGraph` the gradients stay differentiable.
public func accumulateGradients(of loss: Tensor, into parameters: [Parameter], createGraph: Bool = false) {
  let trainable = parameters.filter(\.isTrainable)
  let grads = gradients(of: loss, wrt: trainable.map(\.value), createGraph: createGraph)
  for (p, g) in zip(trainable, grads) {
    if let existing = p.grad { p.grad = existing + g } else { p.grad = g }
  }
}

/// Clears the gradients of `parameters`.
public func zeroGradients(_ parameters: [Parameter]) {
  for p in parameters { p.grad = nil }
}
