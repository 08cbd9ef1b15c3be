/// What can go wrong configuring or running the screen simulator.
///
/// Messages name the command-line flag at fault (`--size`, `--batches`, …), so the `grape simulate`
/// command can print them unchanged.
public enum SimulationError: Error, CustomStringConvertible, Equatable, Sendable {
  /// A configuration value is out of range; `flag` is its command-line spelling.
  case invalidValue(flag: String, value: String, requirement: String)
  /// The control label is also a gene of the complexes table.
  case controlNameClash(name: String, source: String)
  /// The complexes table has no genes to simulate.
  case noGenes(source: String)
  /// A chunk size or thread count passed to the simulator is not positive.
  case invalidArgument(name: String, value: Int)
  /// A trait vector passed to the renderer has the wrong length or non-finite values.
  case invalidTraits(reason: String)
  /// Imaging conditions passed to the renderer are inconsistent or out of range.
  case invalidConditions(field: String, reason: String)
  /// A requested range of cells leaves the screen's `0..<count`.
  case cellRange(lower: Int, upper: Int, count: Int)

  /// A one-line message naming the flag, file or argument at fault.
  public var description: String {
    switch self {
    case .invalidValue(let flag, let value, let requirement):
      return "\(flag) \(value): \(requirement)"
    case .controlNameClash(let name, let source):
      return
        "\(source): the control label \"\(name)\" is also a gene of the complexes table; choose another control name"
    case .noGenes(let source):
      return "\(source): the complexes table has no genes to simulate"
    case .invalidTraits(let reason):
      return "simulator: traits: \(reason)"
    case .invalidConditions(let field, let reason):
      return "simulator: imaging conditions, \(field): \(reason)"
    case .cellRange(let lower, let upper, let count):
      return "simulator: cells \(lower)..<\(upper) are outside the screen's 0..<\(count)"
    case .invalidArgument(let name, let value):
      return "simulator: \(name) must be at least 1, got \(value)"
    }
  }
}
