/// A per-cell field of a cell store's `/obs` carried beside per-cell codes (e.g. `plate`, `well`):
/// strings in imported stores, integer indices in simulated ones.
public struct CellField: Sendable, Equatable {
  /// The values, in the type the store holds them.
  public enum Values: Sendable, Equatable {
    /// Text, one per cell.
    case strings([String])
    /// Integers, one per cell.
    case integers([Int32])
  }

  /// The field's name under `/obs`.
  public let name: String
  /// One value per cell.
  public let values: Values

  /// A field from its parts.
  public init(name: String, values: Values) {
    self.name = name
    self.values = values
  }

  /// The number of cells.
  public var count: Int {
    switch values {
    case .strings(let v): return v.count
    case .integers(let v): return v.count
    }
  }

  /// Each cell's value as text (integers in decimal).
  public var labels: [String] {
    switch values {
    case .strings(let v): return v
    case .integers(let v): return v.map(String.init)
    }
  }
}

extension CellStore {
  /// The fields among `names` that the store's `/obs` holds, in the order of `names`; a numeric
  /// field is read as integers.
  public func cellFields(_ names: [String]) throws -> [CellField] {
    try names.filter { file.contains("/obs/\($0)") }.map { name in
      let dataset = try file.dataset("/obs/\(name)")
      if try dataset.elementType == .string {
        return CellField(name: name, values: .strings(try dataset.readStrings()))
      }
      return CellField(name: name, values: .integers(try dataset.read(as: Int32.self)))
    }
  }
}
