import NeuralNet
import TensorCore

/// The losses of one GRAPE iteration, as logged.
public struct StepLosses: Sendable, Equatable {
  public var dReal: Float = 0
  public var dFake: Float = 0
  public var r1: Float = 0
  public var dTotal: Float = 0
  public var gAdv: Float = 0
  public var gCyc: Float = 0
  public var gSty: Float = 0
  public var gTotal: Float = 0
  /// Extra terms (ABRA), by name.
  public var extra: [String: Float] = [:]

  public init() {}

  /// Names and values in log order.
  public var fields: [(String, Float)] {
    [("d_real", dReal), ("d_fake", dFake), ("r1", r1), ("d_total", dTotal), ("g_adv", gAdv), ("g_cyc", gCyc), ("g_sty", gSty), ("g_total", gTotal)]
      + extra.keys.sorted().map { ($0, extra[$0] ?? 0) }
  }

  /// The values of the named fields (the columns of `log.tsv`); NaN for one this step did not compute.
  public func values(of names: [String]) -> [Float] {
    let byName = Dictionary(fields, uniquingKeysWith: { first, _ in first })
    return names.map { byName[$0] ?? .nan }
  }

  /// The mean of each value over `parts` (the micro-batches of one step).
  public static func mean(of parts: [StepLosses]) -> StepLosses {
    var m = StepLosses()
    guard !parts.isEmpty else { return m }
    let n = Float(parts.count)
    m.dReal = parts.map(\.dReal).reduce(0, +) / n
    m.dFake = parts.map(\.dFake).reduce(0, +) / n
    m.r1 = parts.map(\.r1).reduce(0, +) / n
    m.dTotal = parts.map(\.dTotal).reduce(0, +) / n
    m.gAdv = parts.map(\.gAdv).reduce(0, +) / n
    m.gCyc = parts.map(\.gCyc).reduce(0, +) / n
    m.gSty = parts.map(\.gSty).reduce(0, +) / n
    m.gTotal = parts.map(\.gTotal).reduce(0, +) / n
    for name in Set(parts.flatMap(\.extra.keys)) { m.extra[name] = parts.compactMap { $0.extra[name] }.reduce(0, +) / n }
    return m
  }

  /// The first non-finite loss, if any.
  public var firstNonFinite: (String, Float)? { fields.first { !$0.1.isFinite } }
}

/// R1 = ½ · mean over the batch of ‖∇ₓ D_y(x)‖² (Mescheder et al., 2018), built with a graph so
/// that its gradient with respect to D's weights can be taken (double backward).
///
/// - Parameters:
///   - output: D_y(x) for each image, [N], computed from `input`.
///   - input: the real images, a leaf requiring a gradient.
public func r1Penalty(output: Tensor, input: Tensor) -> Tensor {
  let g = gradients(of: output.sum(), wrt: [input], createGraph: true)[0]
  return g.square().sum(axes: [1, 2, 3]).mean() * 0.5
}
