/// The sample types of images and cell stores.
public enum PixelType: String, Sendable, Codable, CaseIterable {
  /// Unsigned 8-bit integers.
  case uint8
  /// Unsigned 16-bit integers.
  case uint16
  /// 32-bit IEEE floats.
  case float32

  /// Bytes per sample.
  public var byteSize: Int {
    switch self {
    case .uint8: return 1
    case .uint16: return 2
    case .float32: return 4
    }
  }

  /// Whether samples are integers.
  public var isInteger: Bool { self != .float32 }
}

/// Pixel samples of one type, in a flat row-major buffer.
public enum PixelBuffer: Sendable, Equatable {
  /// Unsigned 8-bit samples.
  case uint8([UInt8])
  /// Unsigned 16-bit samples.
  case uint16([UInt16])
  /// 32-bit float samples.
  case float32([Float])

  /// The sample type.
  public var pixelType: PixelType {
    switch self {
    case .uint8: return .uint8
    case .uint16: return .uint16
    case .float32: return .float32
    }
  }

  /// The number of samples.
  public var count: Int {
    switch self {
    case .uint8(let v): return v.count
    case .uint16(let v): return v.count
    case .float32(let v): return v.count
    }
  }

  /// The samples converted to `Float` (exact for 8- and 16-bit integers).
  public func floats() -> [Float] {
    switch self {
    case .uint8(let v): return v.map { Float($0) }
    case .uint16(let v): return v.map { Float($0) }
    case .float32(let v): return v
    }
  }

  /// The sample at `index` as a `Float`.
  @inline(__always) public func float(at index: Int) -> Float {
    switch self {
    case .uint8(let v): return Float(v[index])
    case .uint16(let v): return Float(v[index])
    case .float32(let v): return v[index]
    }
  }

  /// A zero-filled buffer of `count` samples of `type`.
  public static func zeros(_ type: PixelType, count: Int) -> PixelBuffer {
    switch type {
    case .uint8: return .uint8([UInt8](repeating: 0, count: count))
    case .uint16: return .uint16([UInt16](repeating: 0, count: count))
    case .float32: return .float32([Float](repeating: 0, count: count))
    }
  }

  /// The samples in `range`, as a buffer of the same type.
  public func slice(_ range: Range<Int>) -> PixelBuffer {
    switch self {
    case .uint8(let v): return .uint8(Array(v[range]))
    case .uint16(let v): return .uint16(Array(v[range]))
    case .float32(let v): return .float32(Array(v[range]))
    }
  }
}
