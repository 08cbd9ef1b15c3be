import Foundation

/// A cell store opened for reading: metadata and per-cell labels in memory, images read on demand.
///
/// Opening validates the layout and says clearly when a file is not a cell store. Images are read
/// for any list of cell indices and returned as `Float` (a `uint16` store is converted exactly).
/// Safe to share between threads: reads are serialised inside the HDF5 wrapper.
///
/// ```swift
/// let store = try CellStore(path: "cells.h5")
/// let pixels = try store.images(at: [17, 3, 99])    // [3, C, H, W] floats
/// let gene = store.genes[Int(store.geneOfCell[17])]
/// ```
public final class CellStore: @unchecked Sendable {
  /// The file's path.
  public let path: String
  /// The open file (read-only), for extra datasets such as `/truth`.
  public let file: HDF5File
  /// The number of cells, N.
  public let count: Int
  /// Channel names, C of them.
  public let channels: [String]
  /// Crop height H.
  public let height: Int
  /// Crop width W.
  public let width: Int
  /// The stored sample type (`uint16` or `float32`).
  public let pixelType: PixelType
  /// Gene names (`/genes`).
  public let genes: [String]
  /// Batch names (`/batches`).
  public let batches: [String]
  /// The control gene's name.
  public let control: String
  /// The control gene's index in ``genes``, if present.
  public let controlIndex: Int?
  /// The `preprocessing` JSON text.
  public let preprocessing: String
  /// The layout version.
  public let version: Int
  /// Each cell's index into ``genes`` (`/obs/gene`).
  public let geneOfCell: [Int32]
  /// Each cell's index into ``batches`` (`/obs/batch`).
  public let batchOfCell: [Int32]

  let imageData: HDF5Dataset
  /// The codec for decoding one-cell chunks outside HDF5, or `nil` to read through HDF5.
  let codec: CellChunkCodec?

  /// Threads that decompress cells in parallel on reads of compressed stores (default: all cores).
  public let decompressionThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)

  /// The shape of one cell, `[C, H, W]`.
  public var cellShape: [Int] { [channels.count, height, width] }
  /// The number of samples per cell, `C × H × W`.
  public var valuesPerCell: Int { channels.count * height * width }

  /// Opens and validates the cell store at `path`.
  ///
  /// - Throws: ``OPSDataError/fileNotFound(path:)``; ``OPSDataError/notACellStore(path:reason:)``
  ///   when the file is HDF5 but not a (valid) cell store; HDF5 errors for unreadable files.
  public init(path: String) throws {
    self.path = path
    file = try HDF5File.open(path)
    func notAStore(_ reason: String) -> OPSDataError {
      OPSDataError.notACellStore(path: path, reason: reason)
    }
    let root = try file.root
    let attributes = root.attributes
    guard attributes.contains("format") else {
      var hint = ""
      if file.contains("/embedding") {
        hint = " (it looks like an embedding file)"
      } else if file.contains("/styles") {
        hint = " (it looks like a per-cell code file)"
      } else if file.contains("/X") {
        hint = " (it looks like an AnnData file)"
      }
      throw notAStore("no 'format' attribute (expected '\(CellStoreFormat.formatName)')\(hint)")
    }
    let format = (try? attributes.string("format")) ?? ""
    guard format == CellStoreFormat.formatName else {
      throw notAStore("format is '\(format)', expected '\(CellStoreFormat.formatName)'")
    }
    guard let version = try? attributes.int("version") else {
      throw notAStore("no integer 'version' attribute")
    }
    guard version == CellStoreFormat.version else {
      throw notAStore(
        "version \(version) is not supported (this reader handles version \(CellStoreFormat.version))"
      )
    }
    self.version = version
    guard let channels = try? attributes.strings("channels"), !channels.isEmpty else {
      throw notAStore("no 'channels' attribute")
    }
    self.channels = channels
    control = (try? attributes.string("control")) ?? ""
    preprocessing = (try? attributes.string("preprocessing")) ?? "{}"
    for required in [
      CellStoreFormat.images, CellStoreFormat.gene, CellStoreFormat.batch, CellStoreFormat.genes,
      CellStoreFormat.batches,
    ]
    where try root.kind(of: required) != .dataset {
      throw notAStore("missing dataset \(required)")
    }
    imageData = try root.dataset(CellStoreFormat.images)
    let shape = try imageData.shape
    guard shape.count == 4 else {
      throw notAStore("/images has shape \(shape), expected [N, C, H, W]")
    }
    guard shape[1] == channels.count else {
      throw notAStore(
        "/images has \(shape[1]) channels but the 'channels' attribute names \(channels.count)")
    }
    count = shape[0]
    height = shape[2]
    width = shape[3]
    switch try imageData.elementType {
    case .uint16?: pixelType = .uint16
    case .float32?: pixelType = .float32
    case let other:
      throw notAStore(
        "/images holds \(other?.rawValue ?? "an unsupported type"), expected uint16 or float32")
    }
    // One cell per chunk with filters this module reproduces (shuffle and/or deflate, or none):
    // chunks are decoded here, in parallel; any other layout is read through HDF5's pipeline.
    let filters = try imageData.filters
    if try imageData.chunkShape == [1, shape[1], shape[2], shape[3]] {
      codec = CellChunkCodec(
        elementSize: pixelType.byteSize, elements: shape[1] * shape[2] * shape[3], filters: filters)
    } else {
      codec = nil
    }
    let genes = try root.dataset(CellStoreFormat.genes).readStrings()
    let batches = try root.dataset(CellStoreFormat.batches).readStrings()
    let geneOfCell = try root.dataset(CellStoreFormat.gene).read(as: Int32.self)
    let batchOfCell = try root.dataset(CellStoreFormat.batch).read(as: Int32.self)
    let n = shape[0]
    guard geneOfCell.count == n else {
      throw notAStore("/obs/gene has \(geneOfCell.count) entries for \(n) cells")
    }
    guard batchOfCell.count == n else {
      throw notAStore("/obs/batch has \(batchOfCell.count) entries for \(n) cells")
    }
    if let k = geneOfCell.firstIndex(where: { $0 < 0 || Int($0) >= genes.count }) {
      throw notAStore(
        "/obs/gene holds \(geneOfCell[k]) at cell \(k) but /genes has \(genes.count) entries")
    }
    if let k = batchOfCell.firstIndex(where: { $0 < 0 || Int($0) >= batches.count }) {
      throw notAStore(
        "/obs/batch holds \(batchOfCell[k]) at cell \(k) but /batches has \(batches.count) entries")
    }
    for (names, dataset) in [(genes, CellStoreFormat.genes), (batches, CellStoreFormat.batches)] {
      if let k = names.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
        throw notAStore("\(dataset) entry \(k) is an empty name")
      }
      var first: [String: Int] = [:]
      for (k, name) in names.enumerated() {
        if let earlier = first[name] { throw notAStore("\(dataset) names '\(name)' twice (entries \(earlier) and \(k))") }
        first[name] = k
      }
    }
    if !control.isEmpty, !genes.contains(control) {
      throw notAStore("the control '\(control)' (attribute 'control') is not among the \(genes.count) genes of /genes")
    }
    self.genes = genes
    self.batches = batches
    self.geneOfCell = geneOfCell
    self.batchOfCell = batchOfCell
    controlIndex = genes.firstIndex(of: control)
  }

  // MARK: - Images

  /// The images of the cells at `indices` (any order, repeats allowed), `[n, C, H, W]` as floats.
  public func images(at indices: [Int]) throws -> [Float] {
    var values = [Float](repeating: 0, count: indices.count * valuesPerCell)
    try values.withUnsafeMutableBufferPointer { try images(at: indices, into: $0) }
    return values
  }

  /// Reads the images of `indices` into `buffer` (at least `indices.count × C × H × W` floats).
  /// - Throws: ``OPSDataError/nonFinitePixel(path:cell:channel:value:)`` for a float32 store
  ///   holding NaN or infinity, naming the cell and channel (every consumer would fail later
  ///   with a less useful message: training as "diverged", features as NaN).
  public func images(at indices: [Int], into buffer: UnsafeMutableBufferPointer<Float>) throws {
    try readImages(at: indices, into: buffer)
    guard pixelType == .float32 else { return }
    let values = UnsafeBufferPointer(start: buffer.baseAddress, count: indices.count * valuesPerCell)
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      let plane = height * width
      throw OPSDataError.nonFinitePixel(
        path: path, cell: indices[bad / valuesPerCell], channel: channels[(bad % valuesPerCell) / plane], value: values[bad])
    }
  }

  private func readImages(at indices: [Int], into buffer: UnsafeMutableBufferPointer<Float>) throws {
    if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
      throw OPSDataError.invalidArgument(
        name: "\(path) /images", message: "cell \(bad) is outside 0..<\(count)")
    }
    guard buffer.count >= indices.count * valuesPerCell else {
      throw OPSDataError.invalidArgument(
        name: "\(path) /images",
        message:
          "a buffer of \(buffer.count) floats cannot hold \(indices.count) cells of \(valuesPerCell)"
      )
    }
    guard let codec else {
      try imageData.readRows(indices, into: buffer)
      return
    }
    try readChunks(indices, codec: codec, into: buffer)
  }

  /// Reads the stored chunks of `indices` (serially, inside HDF5) and decodes them into floats on
  /// several threads.
  private func readChunks(
    _ indices: [Int], codec: CellChunkCodec, into buffer: UnsafeMutableBufferPointer<Float>
  ) throws {
    var stored: [(bytes: [UInt8], filterMask: UInt32)] = []
    stored.reserveCapacity(indices.count)
    for index in indices { stored.append(try imageData.readChunk(at: [index, 0, 0, 0])) }
    let perCell = valuesPerCell
    let workers = max(1, min(decompressionThreads, indices.count))
    let failed = Locked<Int?>(nil)
    let output = UncheckedBox(buffer)
    let chunks = stored
    let type = pixelType
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: codec.rawBytes, alignment: 16)
      defer { scratch.deallocate() }
      for k in stride(from: worker, to: chunks.count, by: workers) {
        guard let base = output.value.baseAddress else { return }
        let slot = base + k * perCell
        if type == .float32 {
          let destination = UnsafeMutableRawBufferPointer(start: slot, count: perCell * 4)
          if !codec.decode(chunks[k].bytes, filterMask: chunks[k].filterMask, into: destination) {
            failed.withLock { $0 = k }
          }
        } else {
          if !codec.decode(chunks[k].bytes, filterMask: chunks[k].filterMask, into: scratch) {
            failed.withLock { $0 = k }
            continue
          }
          let samples = scratch.bindMemory(to: UInt16.self)
          for i in 0..<perCell { slot[i] = Float(samples[i]) }
        }
      }
    }
    if let k = failed.withLock({ $0 }) {
      throw OPSDataError.hdf5(
        path: path, object: CellStoreFormat.images, operation: "decode cell \(indices[k])",
        detail: "damaged chunk")
    }
  }

  /// The images of the cells at `indices` in their stored type.
  public func rawImages(at indices: [Int]) throws -> PixelBuffer {
    if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
      throw OPSDataError.invalidArgument(
        name: "\(path) /images", message: "cell \(bad) is outside 0..<\(count)")
    }
    switch pixelType {
    case .uint16: return .uint16(try imageData.readRows(indices, as: UInt16.self))
    default: return .float32(try imageData.readRows(indices, as: Float.self))
    }
  }

  // MARK: - Labels and provenance

  /// The cell indices of each gene: `cellsByGene[g]` lists the cells with `geneOfCell == g`.
  public var cellsByGene: [[Int]] {
    var result = [[Int]](repeating: [], count: genes.count)
    for (cell, gene) in geneOfCell.enumerated() { result[Int(gene)].append(cell) }
    return result
  }

  /// The number of cells of each gene.
  public var cellsPerGene: [Int] {
    var result = [Int](repeating: 0, count: genes.count)
    for gene in geneOfCell { result[Int(gene)] += 1 }
    return result
  }

  /// The number of cells of each batch.
  public var cellsPerBatch: [Int] {
    var result = [Int](repeating: 0, count: batches.count)
    for batch in batchOfCell { result[Int(batch)] += 1 }
    return result
  }

  /// The names of the optional `/obs` fields present (e.g. `plate`, `tile`, `y`, `x`).
  public func provenanceFields() throws -> [String] {
    guard file.contains("/obs") else { return [] }
    return try file.group("/obs").members().filter { $0 != "gene" && $0 != "batch" }
  }

  /// A numeric per-cell field of `/obs` (e.g. `tile`, `y`, `x`, `row`), converted to `T`.
  public func obs<T: HDF5Scalar>(_ name: String, as type: T.Type = T.self) throws -> [T] {
    try file.dataset("/obs/\(name)").read(as: type)
  }

  /// A string per-cell field of `/obs` (e.g. `plate`, `well`).
  public func obsStrings(_ name: String) throws -> [String] {
    try file.dataset("/obs/\(name)").readStrings()
  }

  /// A numeric array anywhere in the file (e.g. `/truth/complex`), with its shape.
  public func array<T: HDF5Scalar>(_ path: String, as type: T.Type = T.self) throws -> (
    values: [T], shape: [Int]
  ) {
    let dataset = try file.dataset(path)
    return (try dataset.read(as: type), try dataset.shape)
  }

  /// A string array anywhere in the file (e.g. `/truth/complex_names`).
  public func strings(_ path: String) throws -> [String] {
    try file.dataset(path).readStrings()
  }
}
