/// Errors of tensor operations that depend on data rather than on programming mistakes.
///
/// Shape mismatches between operands are programming errors and stop with a precondition that
/// names the op and both shapes; this enum covers what callers may want to catch.
public enum TensorError: Error, CustomStringConvertible, Equatable {
  /// An op the active backend does not implement.
  case unsupported(op: String, backend: String)
  /// A non-finite value where a finite one is required.
  case nonFinite(op: String, detail: String)
  /// Shapes that do not fit together.
  case shapeMismatch(op: String, lhs: [Int], rhs: [Int])

  public var description: String {
    switch self {
    case .unsupported(let op, let backend): return "\(op) has no \(backend) implementation"
    case .nonFinite(let op, let detail): return "\(op): non-finite value (\(detail))"
    case .shapeMismatch(let op, let lhs, let rhs): return "\(op): shapes \(lhs) and \(rhs) do not fit"
    }
  }
}
