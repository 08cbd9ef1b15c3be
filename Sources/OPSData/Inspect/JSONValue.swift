import Foundation

/// A parsed JSON value that keeps booleans and numbers apart (for printing run configurations).
enum JSONValue: Decodable, Sendable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  /// Parses `data` as JSON.
  static func parse(_ data: Data) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: data)
  }

  /// Compact text: numbers without a needless `.0`, long string lists shortened.
  var text: String {
    switch self {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let n): return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    case .string(let s): return s
    case .array(let items):
      let strings = items.compactMap { item -> String? in
        if case .string(let s) = item { return s } else { return nil }
      }
      if strings.count == items.count && items.count > 8 {
        return "\(items.count) (\(strings.prefix(8).joined(separator: ", ")), ...)"
      }
      return items.map { item in
        if case .string(let s) = item { return s } else { return item.text }
      }.joined(separator: ", ")
    case .object(let fields):
      return "{"
        + fields.keys.sorted().map { "\($0): \(fields[$0]?.text ?? "")" }.joined(separator: ", ")
        + "}"
    }
  }
}
