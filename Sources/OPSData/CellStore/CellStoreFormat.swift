import Foundation

/// Names and constants of the cell-store layout (INTERFACES.md, "Cell store").
///
/// ```
/// /images       uint16 or float32 [N, C, H, W], one chunk per cell
/// /obs/gene     int32 [N]   index into /genes
/// /obs/batch    int32 [N]   index into /batches
/// /obs/plate, /obs/well (strings), /obs/tile (int32), /obs/y, /obs/x (float32), /obs/row (int64): optional
/// /genes        variable-length UTF-8 strings [G]
/// /batches      variable-length UTF-8 strings [B]
/// root attributes: format = "grape-cells", version = 1, channels, control, preprocessing (JSON)
/// ```
public enum CellStoreFormat {
  /// The value of the root attribute `format`.
  public static let formatName = "grape-cells"
  /// The layout version this module reads and writes.
  public static let version = 1

  /// Dataset paths.
  public static let images = "/images"
  /// Per-cell gene index.
  public static let gene = "/obs/gene"
  /// Per-cell batch index.
  public static let batch = "/obs/batch"
  /// Gene names.
  public static let genes = "/genes"
  /// Batch names.
  public static let batches = "/batches"

  /// Paths the writer manages itself; ``CellStoreWriter/writeArray(_:_:shape:)`` refuses them.
  static let reserved: Set<String> = [
    images, gene, batch, genes, batches, "/obs/plate", "/obs/well", "/obs/tile", "/obs/y", "/obs/x",
    "/obs/row",
  ]
}

/// Compression of the `/images` dataset.
public enum CellStoreCompression: Sendable, Equatable {
  /// No compression (fastest to read and write, largest files).
  case none
  /// Deflate at `level` (1–9) after HDF5's byte shuffle, which suits 16-bit images well.
  case deflate(level: Int)

  /// The default: deflate level 1, a good trade between size and speed for microscopy crops.
  public static let standard = CellStoreCompression.deflate(level: 1)

  /// Parses `none`, `deflate` or `deflate:N`.
  public init?(argument: String) {
    if argument == "none" {
      self = .none
    } else if argument == "deflate" {
      self = .standard
    } else if argument.hasPrefix("deflate:"), let level = Int(argument.dropFirst(8)),
      (1...9).contains(level)
    {
      self = .deflate(level: level)
    } else {
      return nil
    }
  }

  /// A short description, e.g. `deflate:1`.
  public var argument: String {
    switch self {
    case .none: return "none"
    case .deflate(let level): return "deflate:\(level)"
    }
  }
}

/// Optional per-cell provenance, appended alongside images (each array holds one entry per cell).
///
/// Which fields are present is fixed by the first append that carries provenance; later appends must
/// carry the same fields.
public struct CellProvenance: Sendable, Equatable {
  /// Plate names (`/obs/plate`).
  public var plate: [String]?
  /// Well names (`/obs/well`).
  public var well: [String]?
  /// Tile (field of view) numbers (`/obs/tile`).
  public var tile: [Int32]?
  /// Centroid rows in the source image (`/obs/y`).
  public var y: [Float]?
  /// Centroid columns in the source image (`/obs/x`).
  public var x: [Float]?
  /// 0-based data-row numbers in the table the cells came from (`/obs/row`).
  public var row: [Int64]?

  /// Provenance with the given fields.
  public init(
    plate: [String]? = nil, well: [String]? = nil, tile: [Int32]? = nil, y: [Float]? = nil,
    x: [Float]? = nil,
    row: [Int64]? = nil
  ) {
    self.plate = plate
    self.well = well
    self.tile = tile
    self.y = y
    self.x = x
    self.row = row
  }

  /// The names of the fields present, in `/obs` order.
  public var fieldNames: [String] {
    var names: [String] = []
    if plate != nil { names.append("plate") }
    if well != nil { names.append("well") }
    if tile != nil { names.append("tile") }
    if y != nil { names.append("y") }
    if x != nil { names.append("x") }
    if row != nil { names.append("row") }
    return names
  }

  /// The per-field entry counts (all must equal the number of cells).
  var counts: [(String, Int)] {
    var result: [(String, Int)] = []
    if let plate { result.append(("plate", plate.count)) }
    if let well { result.append(("well", well.count)) }
    if let tile { result.append(("tile", tile.count)) }
    if let y { result.append(("y", y.count)) }
    if let x { result.append(("x", x.count)) }
    if let row { result.append(("row", row.count)) }
    return result
  }
}
