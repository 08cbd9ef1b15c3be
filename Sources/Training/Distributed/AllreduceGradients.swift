import Foundation
import GrapeSupport
import NeuralNet
import TensorCore

/// Averages gradients over the ranks of a ``ProcessGroup`` with one `MPI_Allreduce` per
/// optimiser step: every gradient of the step is packed into one buffer (a single bucket),
/// preceded by a presence flag per gradient, so a parameter that no rank has a gradient for
/// stays without one, as in a single process.
public final class AllreduceGradients: GradientReducer {
  /// The ranks to average over.
  public let group: ProcessGroup
  /// Seconds spent packing, reducing and unpacking, over this process's life.
  public private(set) var seconds = 0.0
  /// Bytes sent into the allreduce calls, over this process's life.
  public private(set) var bytes = 0
  /// Allreduce calls made.
  public private(set) var calls = 0

  /// A reducer over `group`.
  public init(group: ProcessGroup) { self.group = group }

  public func meanOverReplicas(_ gradients: [Tensor?], shapes: [[Int]]) -> [Tensor?] {
    let t0 = monotonicSeconds()
    let counts = shapes.map { $0.reduce(1, *) }
    var buffer = [Float](repeating: 0, count: gradients.count + counts.reduce(0, +))
    var at = gradients.count
    for (i, g) in gradients.enumerated() {
      if let g {
        buffer[i] = 1
        let values = g.scalars
        buffer.replaceSubrange(at..<(at + counts[i]), with: values)
      }
      at += counts[i]
    }
    group.allreduceSum(&buffer)
    let scale = 1 / Float(group.size)
    var out: [Tensor?] = []
    at = gradients.count
    for i in gradients.indices {
      let range = at..<(at + counts[i])
      at += counts[i]
      guard buffer[i] > 0 else {
        out.append(nil)
        continue
      }
      out.append(Tensor(buffer[range].map { $0 * scale }, shape: shapes[i]))
    }
    seconds += monotonicSeconds() - t0
    bytes += buffer.count * MemoryLayout<Float>.size
    calls += 1
    return out
  }
}
