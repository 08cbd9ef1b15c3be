import Foundation

/// A closed set of named choices in a configuration file or on the command line (`sampler`,
/// `ema_mode`, …), spelt in JSON and on the command line by its raw value.
///
/// Decoding a value that names no case fails with a `DecodingError.dataCorrupted` whose
/// description lists the valid names, so the caller's error line can say what was expected.
public protocol ConfigChoice: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension ConfigChoice {
  /// The valid names, as "a, b or c".
  public static var choices: String {
    let names = allCases.map(\.rawValue)
    guard let last = names.last, names.count > 1 else { return names.first ?? "" }
    return names.dropLast().joined(separator: ", ") + " or " + last
  }

  /// Reads the raw value; one that names no case is an error listing the valid names.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let name = try container.decode(String.self)
    guard let value = Self(rawValue: name) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "must be \(Self.choices), got '\(name)'"))
    }
    self = value
  }

  /// Writes the raw value.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
}

/// The stored property names of a configuration value in snake_case: every key its JSON form
/// can hold, including those of optional fields that are unset (and so left out when encoded).
public func configurationKeys(of value: Any) -> Set<String> {
  Set(Mirror(reflecting: value).children.compactMap { $0.label.map(snakeCase) })
}
