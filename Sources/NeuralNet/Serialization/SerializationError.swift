import TensorCore

/// Errors reading or writing model files.
public enum SerializationError: Error, CustomStringConvertible, Equatable {
  /// The operating system refused a read or write.
  case io(path: String, reason: String)
  /// The file is not a valid safetensors file.
  case malformed(path: String, reason: String)
  /// A tensor has a data type this toolkit cannot convert.
  case unsupportedDType(path: String, tensor: String, dtype: String)

  public var description: String {
    switch self {
    case .io(let p, let r): return "\(p): \(r)"
    case .malformed(let p, let r): return "\(p): not a valid safetensors file (\(r))"
    case .unsupportedDType(let p, let t, let d): return "\(p): tensor '\(t)' has unsupported dtype \(d)"
    }
  }
}
