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
    let flags = gradients.count
    var buffer = [Float](repeating: 0, count: flags + counts.reduce(0, +))
    buffer.withUnsafeMutableBufferPointer { out in
      var at = flags
      for (i, g) in gradients.enumerated() {
        if let g {
          out[i] = 1
          g.withUnsafeScalars { src in
            guard let from = src.baseAddress, let to = out.baseAddress else { return }
            (to + at).update(from: from, count: counts[i])
          }
        }
        at += counts[i]
      }
    }
    group.allreduceSum(&buffer)
    let scale = 1 / Float(group.size)
    var result: [Tensor?] = []
    buffer.withUnsafeBufferPointer { summed in
      var at = flags
      for i in gradients.indices {
        defer { at += counts[i] }
        guard summed[i] > 0 else {
          result.append(nil)
          continue
        }
        let t = Tensor(uninitializedShape: shapes[i])
        let to = t.storage.pointer
        for j in 0..<counts[i] { to[j] = summed[at + j] * scale }
        result.append(t)
      }
    }
    seconds += monotonicSeconds() - t0
    bytes += buffer.count * MemoryLayout<Float>.size
    calls += 1
    return result
  }
}
