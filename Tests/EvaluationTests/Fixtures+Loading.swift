import Foundation
import Testing

/// Reads a JSON fixture written by `scripts/reference/eval_reference.py`.
enum Fixture {
  struct Missing: Error, CustomStringConvertible {
    let description: String
  }

  /// The top-level object of `Fixtures/<name>`.
  static func load(_ name: String) throws -> [String: Any] {
    guard
      let url = Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)
        ?? Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")
    else { throw Missing(description: "fixture \(name) not found in the test bundle") }
    let data = try Data(contentsOf: url)
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw Missing(description: "fixture \(name) is not a JSON object")
    }
    return object
  }

  /// The objects listed under `key`.
  static func cases(_ name: String, key: String = "cases") throws -> [[String: Any]] {
    guard let list = try load(name)[key] as? [[String: Any]] else {
      throw Missing(description: "fixture \(name) has no list '\(key)'")
    }
    return list
  }
}

extension Dictionary where Key == String, Value == Any {
  func int(_ key: String) throws -> Int {
    guard let v = self[key] as? NSNumber else {
      throw Fixture.Missing(description: "no int \(key)")
    }
    return v.intValue
  }
  func double(_ key: String) throws -> Double {
    guard let v = self[key] as? NSNumber else {
      throw Fixture.Missing(description: "no number \(key)")
    }
    return v.doubleValue
  }
  func floats(_ key: String) throws -> [Float] {
    guard let v = self[key] as? [NSNumber] else {
      throw Fixture.Missing(description: "no list \(key)")
    }
    return v.map { $0.floatValue }
  }
  func doubles(_ key: String) throws -> [Double] {
    guard let v = self[key] as? [NSNumber] else {
      throw Fixture.Missing(description: "no list \(key)")
    }
    return v.map { $0.doubleValue }
  }
  func ints(_ key: String) throws -> [Int] {
    guard let v = self[key] as? [NSNumber] else {
      throw Fixture.Missing(description: "no list \(key)")
    }
    return v.map { $0.intValue }
  }
  func optionalDoubles(_ key: String) throws -> [Double?] {
    guard let v = self[key] as? [Any] else { throw Fixture.Missing(description: "no list \(key)") }
    return v.map { ($0 as? NSNumber)?.doubleValue }
  }
  func string(_ key: String) -> String { (self[key] as? String) ?? "?" }
}
