import Foundation

/// The keys of the JSON object `patch` written over those of `base` (both objects).
///
/// - Parameters:
///   - knownKeys: every key the patch may set (``configurationKeys(of:)`` of the configuration,
///     which counts optional fields that are unset and so absent from `base`).
///   - ignoringUnknownKeys: skip other keys instead of rejecting them.
/// - Throws: `TrainingError.invalidConfig` naming `source` and the key.
public func mergeJSONObject(
  _ base: Data, patch: Data, source: String, knownKeys: Set<String>, ignoringUnknownKeys: Bool = false
) throws -> Data {
  guard let patch = try? JSONSerialization.jsonObject(with: patch) as? [String: Any] else {
    throw TrainingError.invalidConfig("\(source): not a JSON object")
  }
  guard var merged = try JSONSerialization.jsonObject(with: base) as? [String: Any] else {
    throw TrainingError.invalidConfig("internal: configuration does not serialise to an object")
  }
  let known = Set(merged.keys).union(knownKeys)
  for (k, v) in patch {
    if ignoringUnknownKeys && !known.contains(k) { continue }
    guard known.contains(k) else {
      throw TrainingError.invalidConfig("\(source): unknown field '\(k)' (known: \(known.sorted().joined(separator: ", ")))")
    }
    if let number = v as? NSNumber {
      // Every numeric field is a 32-bit float or an integer: a value beyond either is a typo.
      guard number.doubleValue.magnitude <= Double(Float.greatestFiniteMagnitude) else {
        throw TrainingError.invalidConfig("\(source): field '\(k)' is \(number), beyond any value it can hold")
      }
    }
    merged[k] = v
  }
  return try JSONSerialization.data(withJSONObject: merged)
}
