import Foundation

/// How `grape import` normalises pixel intensities.
public enum CellNormalization: String, Sendable, CaseIterable, Codable {
  /// Pixels as stored in the TIFFs (a `uint16` store for integer input, `float32` for float input).
  case none
  /// Per channel, the 0.1 and 99.9 percentiles over all imported crops are mapped to 0 and 1, and
  /// values outside are clipped (GRAPE, §3.1).
  case percentile
  /// Per channel and batch, z-scores with the mean and standard deviation of the control cells of
  /// the same batch (GRAPE, §3.1).
  case controls
  /// `percentile`, then `controls` on the rescaled values: GRAPE's full preprocessing.
  case percentileControls = "percentile+controls"

  /// Whether percentiles are computed.
  var usesPercentiles: Bool { self == .percentile || self == .percentileControls }
  /// Whether control statistics are computed.
  var usesControls: Bool { self == .controls || self == .percentileControls }
}

/// Which pixels the percentiles of `--normalize percentile` are taken over.
public enum PercentileScope: String, Sendable, CaseIterable, Codable {
  /// All pixels of all imported crops, per channel (two passes; the default).
  case all
  /// Each source image on its own, per channel, before cropping (GRAPE rescales each field of
  /// view this way); for crop files, each file.
  case image
}

/// Everything `grape import` needs to build a cell store (see ``CellImporter``).
public struct CellImportOptions: Sendable {
  /// The per-cell table (CSV; `.tsv` files are tab-separated).
  public var tablePath: String
  /// The folder that image paths in the table are relative to.
  public var imagesDirectory: String
  /// Where the cell store goes.
  public var outputPath: String
  /// Crop size in pixels: required size of cut-outs around centroids (default 96), or the size to
  /// cut from the centre of crop files (default: the files' own size, which must then agree).
  public var crop: Int?
  /// The channels to keep, in order, by name (see ``channelNames``) or 0-based file index;
  /// `nil` keeps all.
  public var channels: [String]?
  /// Names of the channels in file order (page 0's samples, then page 1's, ...); `nil` names them
  /// `ch0`, `ch1`, ...
  public var channelNames: [String]?
  /// The table column holding the image path.
  public var imageColumn: String
  /// The table column holding the gene symbol.
  public var geneColumn: String
  /// The columns whose values, joined by `_`, name each cell's batch; `nil` uses `batch` when the
  /// table has it and otherwise puts every cell in one batch called `all`.
  public var batchColumns: [String]?
  /// The control gene's label.
  public var control: String
  /// Intensity normalisation.
  public var normalization: CellNormalization
  /// What the percentiles of `percentile` normalisation are computed over.
  public var percentileScope: PercentileScope
  /// Compression of the stored images.
  public var compression: CellStoreCompression
  /// Threads used to decode images (at least 1).
  public var threads: Int

  /// Options with the defaults of `grape import`.
  public init(
    tablePath: String, imagesDirectory: String, outputPath: String, crop: Int? = nil,
    channels: [String]? = nil,
    channelNames: [String]? = nil, imageColumn: String = "image", geneColumn: String = "gene",
    batchColumns: [String]? = nil, control: String = "nontargeting",
    normalization: CellNormalization = .none, percentileScope: PercentileScope = .all,
    compression: CellStoreCompression = .standard,
    threads: Int = ProcessInfo.processInfo.activeProcessorCount
  ) {
    self.tablePath = tablePath
    self.imagesDirectory = imagesDirectory
    self.outputPath = outputPath
    self.crop = crop
    self.channels = channels
    self.channelNames = channelNames
    self.imageColumn = imageColumn
    self.geneColumn = geneColumn
    self.batchColumns = batchColumns
    self.control = control
    self.normalization = normalization
    self.percentileScope = percentileScope
    self.compression = compression
    self.threads = threads
  }

  /// The crop size used around centroids when `--crop` is not given (GRAPE's 96 pixels).
  public static let defaultCentroidCrop = 96
}

/// What an import produced.
public struct CellImportSummary: Sendable, Equatable {
  /// Cells written.
  public let cells: Int
  /// Table rows skipped because the cell was closer than half a crop to the image border.
  public let skippedAtBorder: Int
  /// Number of genes and batches.
  public let genes: Int
  /// Number of batches.
  public let batches: Int
  /// The stored channel names.
  public let channels: [String]
  /// The stored crop size.
  public let height: Int
  /// The stored crop width.
  public let width: Int
  /// The stored sample type.
  public let pixelType: PixelType
  /// Wall-clock seconds for the whole import.
  public let seconds: Double
  /// The `preprocessing` JSON text written into the store.
  public let preprocessing: String
  /// Table rows that repeat an earlier row's cell (same image and centroid), with that row's
  /// number; imported as separate cells, but almost always a mistake worth a warning.
  public var repeatedRows: [RepeatedRow] = []

  /// A table row that names the same cell as an earlier one.
  public struct RepeatedRow: Sendable, Equatable {
    public let row: Int
    public let earlier: Int
  }
}
