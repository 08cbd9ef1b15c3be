/// A column of an AnnData data frame (`obs` or `var`), in one of the on-disk encodings of
/// anndata 0.8 and later.
public enum AnnDataColumn: Sendable, Equatable {
  /// Text (`string-array`); pandas reads it as an `object` column.
  case strings([String])
  /// A pandas `Categorical` (`categorical`): each row's index into `categories`, or -1 for a
  /// missing value (`NaN` in pandas).
  case categorical(codes: [Int32], categories: [String])
  /// Booleans (`array` of NumPy `bool`).
  case booleans([Bool])
  /// 64-bit integers (`array` of `int64`).
  case integers([Int64])
  /// 64-bit floats (`array` of `float64`).
  case doubles([Double])

  /// A categorical column of `labels`, its categories sorted; `nil` entries are missing.
  public static func categorical(_ labels: [String?]) -> AnnDataColumn {
    let categories = Set(labels.compactMap { $0 }).sorted()
    var index: [String: Int32] = [:]
    for (i, name) in categories.enumerated() { index[name] = Int32(i) }
    return .categorical(codes: labels.map { $0.flatMap { index[$0] } ?? -1 }, categories: categories)
  }

  /// The number of rows.
  public var count: Int {
    switch self {
    case .strings(let v): return v.count
    case .categorical(let codes, _): return codes.count
    case .booleans(let v): return v.count
    case .integers(let v): return v.count
    case .doubles(let v): return v.count
    }
  }
}
