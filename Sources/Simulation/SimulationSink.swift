/// A block of consecutive simulated cells: pixels, labels and per-cell ground truth.
///
/// Cells `start ..< start + count` of the screen, in store order. Pixels are UInt16 in
/// `[count, channels, height, width]` row-major order (NCHW), the layout of the cell store's
/// `/images`. Per-cell arrays have `count` entries; `traits` has `count × traitCount`.
public struct SimulatedChunk: Sendable, Equatable {
  /// Index of the first cell in the screen.
  public var start: Int
  /// Number of cells.
  public var count: Int
  /// Channels per crop (4: DNA, DNA damage, microtubules, F-actin).
  public var channels: Int
  /// Crop height in pixels.
  public var height: Int
  /// Crop width in pixels.
  public var width: Int
  /// Crops, [count, channels, height, width].
  public var pixels: [UInt16]
  /// Gene index of each cell (into `SimulationTruth.geneNames`, the store's `/genes`).
  public var gene: [Int32]
  /// Batch index of each cell (into `SimulationTruth.batchNames`, the store's `/batches`).
  public var batch: [Int32]
  /// Plate index of each cell over the whole screen (into `SimulationTruth.plateNames`).
  public var plate: [Int32]
  /// Well index of each cell within its plate.
  public var well: [Int32]
  /// Row (y) of the crop centre in its field of view, pixels.
  public var y: [Float]
  /// Column (x) of the crop centre in its field of view, pixels.
  public var x: [Float]
  /// 1 when the cell shows its gene's phenotype (penetrance draw), else 0; 0 for controls.
  public var affected: [Int32]
  /// 1 when the cell is in mitosis, else 0.
  public var mitotic: [Int32]
  /// Number of DNA-damage foci drawn in the cell.
  public var fociCount: [Int32]
  /// Trait values of each cell in control standard deviations, [count, traitCount].
  public var traits: [Float]
  /// Number of traits per cell (`PhenotypeParameter.count`).
  public var traitCount: Int
  /// Cell line of each cell (into `ArrayedTruth.cellLineNames`); nil for a pooled screen.
  public var cellLine: [Int32]? = nil

  /// Number of pixels of one crop (`channels × height × width`).
  public var cellStride: Int { channels * height * width }

  /// The pixels of cell `i` of this chunk (0-based within the chunk).
  public func crop(_ i: Int) -> ArraySlice<UInt16> {
    pixels[(i * cellStride)..<((i + 1) * cellStride)]
  }

  /// The per-cell arrays as cell-store datasets, in the order a writer should create them.
  ///
  /// | path | type, shape |
  /// |---|---|
  /// | `/obs/gene`, `/obs/batch`, `/obs/plate`, `/obs/well` | int32 [N] |
  /// | `/obs/y`, `/obs/x` | float32 [N] |
  /// | `/truth/cell_affected`, `/truth/cell_mitotic`, `/truth/cell_foci` | int32 [N] |
  /// | `/truth/cell_traits` | float32 [N, P] |
  /// | `/obs/cell_line` (arrayed screens only) | int32 [N] |
  ///
  /// Shapes are those of this chunk; a writer appends chunks along the first axis.
  public var datasets: [TruthDataset] {
    [
      TruthDataset("/obs/gene", .int32(gene, shape: [count])),
      TruthDataset("/obs/batch", .int32(batch, shape: [count])),
      TruthDataset("/obs/plate", .int32(plate, shape: [count])),
      TruthDataset("/obs/well", .int32(well, shape: [count])),
      TruthDataset("/obs/y", .float32(y, shape: [count])),
      TruthDataset("/obs/x", .float32(x, shape: [count])),
      TruthDataset("/truth/cell_affected", .int32(affected, shape: [count])),
      TruthDataset("/truth/cell_mitotic", .int32(mitotic, shape: [count])),
      TruthDataset("/truth/cell_foci", .int32(fociCount, shape: [count])),
      TruthDataset("/truth/cell_traits", .float32(traits, shape: [count, traitCount])),
    ] + (cellLine.map { [TruthDataset("/obs/cell_line", .int32($0, shape: [count]))] } ?? [])
  }
}

/// Receives a simulated screen chunk by chunk, in store order.
///
/// The simulator never holds more than one chunk of pixels; a sink writes each chunk out (the
/// cell store, TIFF files) or reduces it (statistics, previews). Chunks arrive in increasing
/// `start` order without gaps. A sink that throws stops the simulation, and the error reaches the
/// caller of `ScreenSimulator.run`.
public protocol SimulationSink {
  /// Consumes the next chunk.
  mutating func write(chunk: SimulatedChunk) throws
}

/// A sink that keeps every chunk in memory, for tests and small previews.
public struct CollectingSink: SimulationSink {
  /// The chunks received, in order.
  public private(set) var chunks: [SimulatedChunk] = []

  /// An empty sink.
  public init() {}

  /// Appends the chunk.
  public mutating func write(chunk: SimulatedChunk) throws { chunks.append(chunk) }

  /// All pixels received, concatenated ([N, C, H, W]).
  public var pixels: [UInt16] { chunks.flatMap(\.pixels) }
  /// All gene labels received.
  public var gene: [Int32] { chunks.flatMap(\.gene) }
  /// All batch labels received.
  public var batch: [Int32] { chunks.flatMap(\.batch) }
  /// Number of cells received.
  public var count: Int { chunks.reduce(0) { $0 + $1.count } }
}
