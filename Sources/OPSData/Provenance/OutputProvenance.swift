import Foundation
import GrapeSupport

/// What an output file says about itself: the toolkit version, when it was written, and how it
/// was made (run folder, checkpoint step, EMA weights, cell store, settings).
///
/// HDF5 outputs carry the entries as root attributes; AnnData files as `uns` entries. Keys are
/// snake_case and keep the order in which they were first set. Every value starts with
///
/// | key | value |
/// |---|---|
/// | `toolkit_version` | ``toolkitVersion`` |
/// | `created` | UTC time of writing, ISO 8601 (`2026-03-05T14:02:11Z`) |
///
/// and commands add the ones that apply: `run` (absolute path of the run folder),
/// `checkpoint_step`, `ema` (bool), `config` (the run's `config.json` text), `data` (absolute path
/// of the cell store), `normalization`, and command-specific ones.
public struct OutputProvenance: Sendable, Equatable {
  /// One entry's value: what HDF5 attributes and AnnData `uns` scalars both hold.
  public enum Value: Sendable, Equatable {
    /// Text.
    case string(String)
    /// An integer.
    case int(Int)
    /// A floating-point number.
    case double(Double)
    /// A boolean (an HDF5 enum that h5py reads as `numpy.bool_`).
    case bool(Bool)
    /// A list of strings.
    case strings([String])
  }

  /// A named value.
  public struct Entry: Sendable, Equatable {
    /// The key (snake_case).
    public let key: String
    /// The value.
    public let value: Value
  }

  /// The entries, in the order their keys were first set.
  public private(set) var entries: [Entry]

  /// A record holding `toolkit_version` and `created` (the given time, by default now).
  public init(created: Date = Date()) {
    entries = [
      Entry(key: "toolkit_version", value: .string(toolkitVersion)),
      Entry(key: "created", value: .string(Self.timestamp(created))),
    ]
  }

  /// The value of `key`, or `nil`.
  public subscript(key: String) -> Value? {
    entries.first { $0.key == key }?.value
  }

  /// Sets `key` to `value`, replacing an earlier value in place.
  public mutating func set(_ key: String, _ value: Value) {
    if let index = entries.firstIndex(where: { $0.key == key }) {
      entries[index] = Entry(key: key, value: value)
    } else {
      entries.append(Entry(key: key, value: value))
    }
  }

  /// A copy with `key` set to `value`.
  public func setting(_ key: String, _ value: Value) -> OutputProvenance {
    var copy = self
    copy.set(key, value)
    return copy
  }

  /// Writes every entry as an attribute of `object` (normally a file's root group).
  public func write(to object: HDF5Object) throws {
    let attributes = object.attributes
    for entry in entries {
      switch entry.value {
      case .string(let text): try attributes.set(entry.key, text)
      case .int(let number): try attributes.set(entry.key, number)
      case .double(let number): try attributes.set(entry.key, number)
      case .bool(let flag): try attributes.set(entry.key, flag)
      case .strings(let list): try attributes.set(entry.key, list)
      }
    }
  }

  /// `path` made absolute (against the current folder) and standardised, as files record it.
  public static func absolutePath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
  }

  /// `date` in UTC as ISO 8601 with seconds (`2026-03-05T14:02:11Z`).
  public static func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
  }
}
