import Foundation
import TensorCore

/// A JSON fixture of named cases, each holding tensors as `{"shape": [...], "data": [...]}` and
/// plain numbers or integer lists.
public struct ReferenceFixture {
  /// The cases by name.
  public let cases: [String: [String: Any]]
  /// The whole document.
  public let document: [String: Any]

  /// Loads a fixture file.
  public init(url: URL) throws {
    let data = try Data(contentsOf: url)
    guard let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let cases = doc["cases"] as? [String: [String: Any]]
    else { throw FixtureError.malformed(url.path) }
    self.document = doc
    self.cases = cases
  }

  /// A tensor field of a case.
  public func tensor(_ caseName: String, _ field: String) throws -> Tensor {
    guard let t = cases[caseName]?[field] else { throw FixtureError.missing("\(caseName).\(field)") }
    return try Self.tensor(from: t, name: "\(caseName).\(field)")
  }

  /// A field holding a list of tensors.
  public func tensors(_ caseName: String, _ field: String) throws -> [Tensor] {
    guard let list = cases[caseName]?[field] as? [Any] else { throw FixtureError.missing("\(caseName).\(field)") }
    return try list.enumerated().map { try Self.tensor(from: $0.element, name: "\(caseName).\(field)[\($0.offset)]") }
  }

  /// A tensor from its JSON form `{"shape": [...], "data": [...]}`.
  public static func tensor(from value: Any, name: String) throws -> Tensor {
    guard let t = value as? [String: Any], let shape = t["shape"] as? [Int], let data = t["data"] as? [Double] else {
      throw FixtureError.missing(name)
    }
    return Tensor(data.map { Float($0) }, shape: shape)
  }

  /// A number field of a case.
  public func number(_ caseName: String, _ field: String) throws -> Double {
    guard let v = cases[caseName]?[field] as? Double else { throw FixtureError.missing("\(caseName).\(field)") }
    return v
  }

  /// An integer-list field of a case.
  public func ints(_ caseName: String, _ field: String) throws -> [Int] {
    guard let v = cases[caseName]?[field] as? [Int] else { throw FixtureError.missing("\(caseName).\(field)") }
    return v
  }

  /// An integer field of a case.
  public func int(_ caseName: String, _ field: String) throws -> Int {
    guard let v = cases[caseName]?[field] as? Int else { throw FixtureError.missing("\(caseName).\(field)") }
    return v
  }
}

/// Problems reading a fixture.
public enum FixtureError: Error, CustomStringConvertible {
  case malformed(String)
  case missing(String)

  public var description: String {
    switch self {
    case .malformed(let p): return "fixture \(p) is not a JSON object with \"cases\""
    case .missing(let f): return "fixture field \(f) is missing or has the wrong type"
    }
  }
}
