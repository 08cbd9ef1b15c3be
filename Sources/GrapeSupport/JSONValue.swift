import Foundation

/// A JSON value whose objects keep their key order, with a deterministic serialiser and a
/// reader that keeps booleans, integers and other numbers apart.
///
/// Reports are written with it so that `metrics.json` lists keys in the contract's order and
/// numbers print the same on every platform (shortest round-trip form; non-finite numbers, which
/// JSON cannot hold, become `null`).
public enum JSONValue: Sendable, Equatable {
  /// `null`.
  case null
  /// `true` or `false`.
  case bool(Bool)
  /// An integer.
  case int(Int)
  /// A floating-point number (`null` when not finite).
  case number(Double)
  /// A string.
  case string(String)
  /// An array.
  case array([JSONValue])
  /// An object with ordered keys.
  case object([(String, JSONValue)])

  /// A number or `null` for `nil`.
  public static func optional(_ value: Double?) -> JSONValue {
    value.map { .number($0) } ?? .null
  }

  /// The value of `key` in an object, or `nil`.
  public subscript(key: String) -> JSONValue? {
    if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
    return nil
  }

  /// Serialised text; `indent` spaces per level (0 for one line).
  public func serialized(indent: Int = 2) -> String {
    var out = ""
    write(into: &out, indent: indent, level: 0)
    return out
  }

  private func write(into out: inout String, indent: Int, level: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .number(let d):
      // Swift's shortest round-trip form ("0.49", "1.0", "1e-05"), valid JSON.
      out += d.isFinite ? "\(d)" : "null"
    case .string(let s): JSONValue.escape(s, into: &out)
    case .array(let items):
      if items.isEmpty {
        out += "[]"
        return
      }
      let scalar = items.allSatisfy { !$0.isContainer }
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        if indent > 0 && !scalar {
          out += "\n" + String(repeating: " ", count: indent * (level + 1))
        } else if indent > 0 && i > 0 {
          out += " "
        }
        item.write(into: &out, indent: indent, level: level + 1)
      }
      if indent > 0 && !scalar { out += "\n" + String(repeating: " ", count: indent * level) }
      out += "]"
    case .object(let pairs):
      if pairs.isEmpty {
        out += "{}"
        return
      }
      out += "{"
      for (i, (key, value)) in pairs.enumerated() {
        if i > 0 { out += "," }
        if indent > 0 { out += "\n" + String(repeating: " ", count: indent * (level + 1)) }
        JSONValue.escape(key, into: &out)
        out += indent > 0 ? ": " : ":"
        value.write(into: &out, indent: indent, level: level + 1)
      }
      if indent > 0 { out += "\n" + String(repeating: " ", count: indent * level) }
      out += "}"
    }
  }

  private var isContainer: Bool {
    switch self {
    case .array, .object: return true
    default: return false
    }
  }

  private static func escape(_ s: String, into out: inout String) {
    out += jsonString(s)
  }

  /// Structural equality (objects compare keys in order; NaN equals NaN).
  public static func == (a: JSONValue, b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y || (x.isNaN && y.isNaN)
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  // MARK: Reading

  /// Parses `data` as JSON (object keys in sorted order).
  public static func parse(_ data: Data) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: data)
  }

  /// Compact text for printing a value to a person: numbers without a needless `.0`, long
  /// string lists shortened, object keys sorted.
  public var text: String {
    switch self {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .number(let n): return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    case .string(let s): return s
    case .array(let items):
      let strings = items.compactMap { item -> String? in
        if case .string(let s) = item { return s } else { return nil }
      }
      if strings.count == items.count && items.count > 8 {
        return "\(items.count) (\(strings.prefix(8).joined(separator: ", ")), ...)"
      }
      return items.map(\.text).joined(separator: ", ")
    case .object(let fields):
      return "{" + fields.sorted { $0.0 < $1.0 }.map { "\($0.0): \($0.1.text)" }.joined(separator: ", ") + "}"
    }
  }
}

extension JSONValue: Decodable {
  public init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Int.self) {
      self = .int(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }
  }
}
