import GrapeSupport
import Foundation
import OPSData

/// Writes a simulated screen into a cell store as the simulator streams it: pixels and labels
/// through ``CellStoreWriter``, per-cell truth (`/truth/cell_*`) into extendable datasets, and
/// the screen-level truth (`/truth/...`) when finished.
public final class SimulationStoreSink: SimulationSink {
  /// The writer of the store.
  public let writer: CellStoreWriter
  let truth: SimulationTruth
  /// In creation order: HDF5 places a dataset's chunks when it is closed, so the datasets are
  /// closed in a fixed order to give the same bytes for the same seed.
  private var cellDatasets: [(path: String, dataset: HDF5Dataset)] = []

  /// A store at `path` (written under a temporary name until ``finish()``).
  public init(path: String, truth: SimulationTruth, size: Int, compression: CellStoreCompression = .standard) throws {
    self.truth = truth
    let preprocessing = #"{"normalize": "none", "source": "grape simulate", "config": \#(truth.configJSON)}"#
    writer = try CellStoreWriter(
      path: path, channels: truth.channelNames, height: size, width: size, pixelType: .uint16, genes: truth.geneNames,
      batches: truth.batchNames, control: truth.controlName, preprocessing: preprocessing, compression: compression)
  }

  public func write(chunk: SimulatedChunk) throws {
    let provenance = CellProvenance(
      plate: chunk.plate.map { truth.plateNames[Int($0)] }, well: chunk.well.map { "W\($0 + 1)" }, y: chunk.y, x: chunk.x)
    try writer.append(images: chunk.pixels, genes: chunk.gene, batches: chunk.batch, provenance: provenance)
    for d in chunk.datasets where d.path.hasPrefix("/truth/") || d.path == "/obs/cell_line" {
      let dataset = try cellDataset(d)
      switch d.values {
      case .int32(let v, _): try dataset.append(v)
      case .float32(let v, _): try dataset.append(v)
      case .strings(let v): try dataset.appendStrings(v)
      }
    }
  }

  private func cellDataset(_ d: TruthDataset) throws -> HDF5Dataset {
    if let existing = cellDatasets.first(where: { $0.path == d.path }) { return existing.dataset }
    let type: HDF5ElementType
    switch d.values {
    case .int32: type = .int32
    case .float32: type = .float32
    case .strings: type = .string
    }
    var shape = d.values.shape
    shape[0] = 0
    let created = try writer.file.root.createDataset(d.path, type: type, shape: shape, options: .extendable(chunkRows: 16384))
    cellDatasets.append((d.path, created))
    return created
  }

  /// Writes the screen-level truth and moves the store into place.
  public func finish() throws {
    for d in truth.datasets where d.path.hasPrefix("/truth/") {
      switch d.values {
      case .int32(let v, let shape): try writer.writeArray(d.path, v, shape: shape)
      case .float32(let v, let shape): try writer.writeArray(d.path, v, shape: shape)
      case .strings(let v): try writer.writeStrings(d.path, v)
      }
    }
    while cellDatasets.popLast() != nil {}
    try writer.finish()
  }
}

/// Writes the cells of a simulated screen as TIFF files (one 16-bit page per channel) and a
/// `cells.csv` table (`image,gene,batch,plate,well`) in the form `grape import` reads.
public final class SimulationTIFFSink: SimulationSink {
  let dir: String
  let truth: SimulationTruth
  private var rows: [String] = ["image,gene,batch,plate,well"]

  /// Files go into `dir` (created if needed), under `cells/`.
  public init(dir: String, truth: SimulationTruth) throws {
    self.dir = dir
    self.truth = truth
    try Folder.create("\(dir)/cells")
  }

  public func write(chunk: SimulatedChunk) throws {
    for i in 0..<chunk.count {
      let cell = chunk.start + i
      let name = "cells/cell-\(String(format: "%07d", cell)).tif"
      let image = TIFFImage(width: chunk.width, height: chunk.height, channels: chunk.channels, pixels: .uint16(Array(chunk.crop(i))))
      try TIFFWriter.write(image, to: "\(dir)/\(name)")
      rows.append([
        name, truth.geneNames[Int(chunk.gene[i])], truth.batchNames[Int(chunk.batch[i])], truth.plateNames[Int(chunk.plate[i])],
        "W\(chunk.well[i] + 1)",
      ].joined(separator: ","))
    }
  }

  /// Writes `cells.csv` (atomically).
  public func finish() throws {
    let path = "\(dir)/cells.csv"
    let tmp = "\(dir)/.cells.csv.tmp"
    do {
      try (rows.joined(separator: "\n") + "\n").write(toFile: tmp, atomically: false, encoding: .utf8)
      if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
      try FileManager.default.moveItem(atPath: tmp, toPath: path)
    } catch {
      throw OPSDataError.io(path: path, message: "cannot write the cell table: \(error.localizedDescription)")
    }
  }
}

/// Feeds each chunk to several sinks.
public struct TeeSink: SimulationSink {
  public var sinks: [any SimulationSink]
  public init(_ sinks: [any SimulationSink]) { self.sinks = sinks }
  public mutating func write(chunk: SimulatedChunk) throws {
    for i in sinks.indices { try sinks[i].write(chunk: chunk) }
  }
}
