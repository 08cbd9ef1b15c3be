/// Errors raised by the data layer: files, tables, TIFF and HDF5 failures.
///
/// Every message names the file and, where it applies, the row, dataset, column or flag at fault,
/// so that the command line can print it as one line after `error: `.
public enum OPSDataError: Error, CustomStringConvertible, Equatable, Sendable {
  /// A file or directory that should exist does not.
  case fileNotFound(path: String)
  /// An HDF5 call failed. `object` is the group, dataset or attribute concerned (may be empty).
  case hdf5(path: String, object: String, operation: String, detail: String)
  /// A TIFF file could not be read or written.
  case tiff(path: String, reason: String)
  /// A TIFF file is valid but uses a layout or sample type this reader does not support.
  case unsupportedTIFF(path: String, reason: String)
  /// An HDF5 file is not a cell store (or not a valid one).
  case notACellStore(path: String, reason: String)
  /// An embedding or per-cell code file is malformed.
  case invalidEmbedding(path: String, reason: String)
  /// A row or column of an input table is at fault. `row` counts the header as row 1.
  case table(path: String, row: Int?, message: String)
  /// A caller-supplied argument, option or flag is invalid.
  case invalidArgument(name: String, message: String)
  /// A file-system operation failed.
  case io(path: String, message: String)
  /// A run folder is missing files or holds malformed ones.
  case invalidRun(path: String, reason: String)
  /// A stored pixel is NaN or infinite (`cell` is the cell's index in the store).
  case nonFinitePixel(path: String, cell: Int, channel: String, value: Float)

  /// A one-line human-readable description naming what is at fault.
  public var description: String {
    switch self {
    case .fileNotFound(let path):
      return "\(path): file not found"
    case .hdf5(let path, let object, let operation, let detail):
      let location = object.isEmpty ? path : "\(path) \(object)"
      return detail.isEmpty
        ? "\(location): \(operation) failed" : "\(location): \(operation) failed (\(detail))"
    case .tiff(let path, let reason):
      return "\(path): \(reason)"
    case .unsupportedTIFF(let path, let reason):
      return "\(path): unsupported TIFF: \(reason)"
    case .notACellStore(let path, let reason):
      return "\(path): not a cell store: \(reason)"
    case .invalidEmbedding(let path, let reason):
      return "\(path): \(reason)"
    case .table(let path, let row, let message):
      if let row { return "\(path) row \(row): \(message)" }
      return "\(path): \(message)"
    case .invalidArgument(let name, let message):
      return "\(name): \(message)"
    case .io(let path, let message):
      return "\(path): \(message)"
    case .invalidRun(let path, let reason):
      return "\(path): \(reason)"
    case .nonFinitePixel(let path, let cell, let channel, let value):
      return "\(path): cell \(cell) has a non-finite pixel (\(value)) in channel '\(channel)'; repair or drop the cell"
    }
  }
}
