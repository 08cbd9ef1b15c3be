import Testing
import TensorCore

/// Checks that two tensors have the same shape and agree within `atol + rtol·|expected|`
/// everywhere; on failure reports the largest difference and the first five mismatches.
public func assertClose(
  _ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6,
  _ message: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
  guard actual.shape == expected.shape else {
    Issue.record("\(message) shape \(actual.shape) != expected \(expected.shape)", sourceLocation: sourceLocation)
    return
  }
  assertClose(actual.scalars, expected.scalars, rtol: rtol, atol: atol, message, sourceLocation: sourceLocation)
}

/// Checks two arrays elementwise within `atol + rtol·|expected|`.
public func assertClose(
  _ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
  _ message: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
  guard actual.count == expected.count else {
    Issue.record("\(message) count \(actual.count) != expected \(expected.count)", sourceLocation: sourceLocation)
    return
  }
  var maxDiff: Float = 0
  var bad: [String] = []
  var nBad = 0
  for i in 0..<actual.count {
    let a = actual[i], e = expected[i]
    let d = abs(a - e)
    if a.isNaN != e.isNaN || d > atol + rtol * abs(e) || (d.isNaN && !(a.isNaN && e.isNaN)) {
      nBad += 1
      if bad.count < 5 { bad.append("[\(i)] \(a) vs \(e)") }
    }
    if d.isFinite { maxDiff = max(maxDiff, d) }
  }
  if nBad > 0 {
    Issue.record(
      "\(message) \(nBad) of \(actual.count) elements differ (max diff \(maxDiff)): \(bad.joined(separator: ", "))",
      sourceLocation: sourceLocation)
  }
}
