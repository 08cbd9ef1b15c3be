import Foundation

/// Streams single-cell crops into a new cell store.
///
/// Cells are appended in chunks, so a store never has to fit in memory. The file is written under a
/// temporary name and appears under `path` only when ``finish()`` succeeds; a writer released
/// without `finish()` deletes its temporary file.
///
/// ```swift
/// let writer = try CellStoreWriter(
///   path: "cells.h5", channels: ["DNA", "actin"], height: 32, width: 32, pixelType: .uint16,
///   genes: ["nontargeting", "TP53"], batches: ["plate1"], control: "nontargeting")
/// try writer.append(images: crops, genes: geneIndices, batches: batchIndices)   // [n*2*32*32] UInt16
/// try writer.writeArray("/truth/complex", [-1, 0] as [Int32])
/// try writer.finish()
/// ```
public final class CellStoreWriter {
  /// The final path of the store.
  public let path: String
  /// Channel names, in image order.
  public let channels: [String]
  /// Crop height in pixels.
  public let height: Int
  /// Crop width in pixels.
  public let width: Int
  /// The stored sample type (`uint16` or `float32`).
  public let pixelType: PixelType
  /// Gene names (`/genes`).
  public let genes: [String]
  /// Batch names (`/batches`).
  public let batches: [String]
  /// The control gene's name.
  public let control: String

  /// The open file, for writing extra groups and attributes beyond the helpers here.
  public let file: HDF5File
  /// The number of cells appended so far.
  public private(set) var count = 0

  /// Threads that compress cells in parallel when the store is deflated (default: all cores).
  public var compressionThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)

  private let imageData: HDF5Dataset
  private let codec: CellChunkCodec
  private let geneData: HDF5Dataset
  private let batchData: HDF5Dataset
  private var provenanceFields: [String]?
  private var provenanceData: [String: HDF5Dataset] = [:]
  private var finished = false

  /// The number of samples in one cell, `C × H × W`.
  public var valuesPerCell: Int { channels.count * height * width }

  /// Creates the store's temporary file and its empty datasets.
  ///
  /// - Parameters:
  ///   - path: where the finished store goes (its folder must exist).
  ///   - channels: channel names, in the order of the image channels.
  ///   - height: crop height; `width`: crop width.
  ///   - pixelType: `uint16` or `float32`.
  ///   - genes: gene names, unique; `control` must be one of them.
  ///   - batches: batch names, unique.
  ///   - preprocessing: JSON text describing how the images were made (stored verbatim).
  ///   - compression: compression of `/images`.
  /// - Throws: ``OPSDataError/invalidArgument(name:message:)`` for inconsistent arguments, or an
  ///   HDF5 error when the file cannot be created.
  public init(
    path: String, channels: [String], height: Int, width: Int, pixelType: PixelType,
    genes: [String],
    batches: [String], control: String, preprocessing: String = "{}",
    compression: CellStoreCompression = .standard
  ) throws {
    func invalid(_ what: String, _ message: String) -> OPSDataError {
      OPSDataError.invalidArgument(name: "\(path) \(what)", message: message)
    }
    guard !channels.isEmpty else { throw invalid("channels", "at least one channel is needed") }
    guard Set(channels).count == channels.count else {
      throw invalid("channels", "names are not unique: \(channels)")
    }
    guard height > 0, width > 0 else {
      throw invalid("size", "crop size \(height)×\(width) is not positive")
    }
    guard pixelType == .uint16 || pixelType == .float32 else {
      throw invalid(
        "pixelType", "\(pixelType.rawValue) is not a cell-store type (uint16 or float32)")
    }
    guard !genes.isEmpty else { throw invalid("genes", "at least one gene is needed") }
    if let duplicate = Self.firstDuplicate(genes) {
      throw invalid("genes", "'\(duplicate)' appears twice")
    }
    guard !batches.isEmpty else { throw invalid("batches", "at least one batch is needed") }
    if let duplicate = Self.firstDuplicate(batches) {
      throw invalid("batches", "'\(duplicate)' appears twice")
    }
    guard genes.contains(control) else {
      throw invalid("control", "'\(control)' is not one of the genes")
    }
    guard
      (try? JSONSerialization.jsonObject(
        with: Data(preprocessing.utf8), options: [.fragmentsAllowed])) != nil
    else {
      throw invalid("preprocessing", "is not valid JSON text")
    }
    if case .deflate(let level) = compression, !(1...9).contains(level) {
      throw invalid("compression", "deflate level \(level) is not in 1...9")
    }

    self.path = path
    self.channels = channels
    self.height = height
    self.width = width
    self.pixelType = pixelType
    self.genes = genes
    self.batches = batches
    self.control = control
    var level: Int?
    if case .deflate(let l) = compression { level = l }
    codec = CellChunkCodec(
      elementSize: pixelType.byteSize, elements: channels.count * height * width, level: level)
    file = try HDF5File.create(path)
    let root = try file.root
    var imageOptions = HDF5DatasetOptions(
      extendable: true, chunk: [1, channels.count, height, width])
    if case .deflate(let level) = compression {
      imageOptions.deflateLevel = level
      imageOptions.shuffle = true
    }
    imageData = try root.createDataset(
      CellStoreFormat.images, type: pixelType == .uint16 ? .uint16 : .float32,
      shape: [0, channels.count, height, width], options: imageOptions)
    geneData = try root.createDataset(
      CellStoreFormat.gene, type: .int32, shape: [0], options: .extendable(chunkRows: 16384))
    batchData = try root.createDataset(
      CellStoreFormat.batch, type: .int32, shape: [0], options: .extendable(chunkRows: 16384))
    try root.writeStrings(CellStoreFormat.genes, genes)
    try root.writeStrings(CellStoreFormat.batches, batches)
    let attributes = root.attributes
    try attributes.set("format", CellStoreFormat.formatName)
    try attributes.set("version", CellStoreFormat.version)
    try attributes.set("channels", channels)
    try attributes.set("control", control)
    try attributes.set("preprocessing", preprocessing)
  }

  /// Replaces the `preprocessing` JSON text (before ``finish()``).
  public func setPreprocessing(_ json: String) throws {
    guard
      (try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]))
        != nil
    else {
      throw OPSDataError.invalidArgument(
        name: "\(path) preprocessing", message: "is not valid JSON text")
    }
    try file.root.attributes.set("preprocessing", json)
  }

  // MARK: - Appending cells

  /// Appends cells with 16-bit images (`images` holds `n × C × H × W` samples).
  ///
  /// - Parameters:
  ///   - genes: `n` indices into ``genes``; `batches`: `n` indices into ``batches``.
  ///   - provenance: optional per-cell provenance (the same fields on every append).
  public func append(
    images: [UInt16], genes: [Int32], batches: [Int32], provenance: CellProvenance? = nil
  ) throws {
    let n = try validate(
      imageCount: images.count, genes: genes, batches: batches, provenance: provenance)
    if n == 0 { return }
    if pixelType == .uint16 {
      try appendImages(images, cells: n)
    } else {
      try appendImages(images.map { Float($0) }, cells: n)
    }
    try appendObs(n: n, genes: genes, batches: batches, provenance: provenance)
  }

  /// Appends cells with float images (`images` holds `n × C × H × W` finite samples).
  ///
  /// A `uint16` store accepts float images only if every sample is a whole number in 0...65535.
  public func append(
    images: [Float], genes: [Int32], batches: [Int32], provenance: CellProvenance? = nil
  ) throws {
    let n = try validate(
      imageCount: images.count, genes: genes, batches: batches, provenance: provenance)
    if n == 0 { return }
    if let bad = images.firstIndex(where: { !$0.isFinite }) {
      throw OPSDataError.invalidArgument(
        name: "\(path) /images",
        message: "cell \(count + bad / valuesPerCell) has a non-finite sample (\(images[bad]))")
    }
    if pixelType == .float32 {
      try appendImages(images, cells: n)
    } else {
      var converted = [UInt16](repeating: 0, count: images.count)
      for (i, v) in images.enumerated() {
        guard v >= 0, v <= 65535, v.rounded() == v else {
          throw OPSDataError.invalidArgument(
            name: "\(path) /images",
            message:
              "cell \(count + i / valuesPerCell) has sample \(v), which a uint16 store cannot hold")
        }
        converted[i] = UInt16(v)
      }
      try appendImages(converted, cells: n)
    }
    try appendObs(n: n, genes: genes, batches: batches, provenance: provenance)
  }

  // MARK: - Extra arrays

  /// Writes a numeric array at `path` (e.g. `/truth/complex`), creating parent groups.
  ///
  /// - Parameters:
  ///   - shape: the array's shape; default one-dimensional.
  /// - Throws: when `path` is one of the datasets the writer manages or already exists.
  public func writeArray<T: HDF5Scalar>(_ path: String, _ values: [T], shape: [Int]? = nil) throws {
    let full = try checkExtraPath(path)
    try file.root.write(full, values, shape: shape)
  }

  /// Writes a one-dimensional string array at `path` (e.g. `/truth/complex_names`).
  public func writeStrings(_ path: String, _ values: [String]) throws {
    let full = try checkExtraPath(path)
    try file.root.writeStrings(full, values)
  }

  /// Writes a numeric array at `path`; the same as ``writeArray(_:_:shape:)``.
  public func writeGroupArray<T: HDF5Scalar>(_ path: String, _ values: [T], shape: [Int]? = nil)
    throws
  {
    try writeArray(path, values, shape: shape)
  }

  /// Writes a string array at `path`; the same as ``writeStrings(_:_:)``.
  public func writeGroupArray(_ path: String, strings values: [String]) throws {
    try writeStrings(path, values)
  }

  /// Sets an attribute on the object at `objectPath` (default the root).
  public func setAttribute(_ name: String, _ value: String, at objectPath: String = "/") throws {
    try object(objectPath).attributes.set(name, value)
  }

  /// Sets a numeric attribute on the object at `objectPath` (default the root).
  public func setAttribute(_ name: String, _ value: Double, at objectPath: String = "/") throws {
    try object(objectPath).attributes.set(name, value)
  }

  /// Sets a string-array attribute on the object at `objectPath` (default the root).
  public func setAttribute(_ name: String, _ values: [String], at objectPath: String = "/") throws {
    try object(objectPath).attributes.set(name, values)
  }

  // MARK: - Finishing

  /// Closes the store and moves it to ``path``.
  ///
  /// - Throws: when no cell was appended, or when the file cannot be finished.
  public func finish() throws {
    guard !finished else {
      throw OPSDataError.io(path: path, message: "finish() called twice")
    }
    guard count > 0 else {
      throw OPSDataError.invalidArgument(name: path, message: "the store holds no cells")
    }
    finished = true
    try file.commit()
  }

  /// Abandons the store: the temporary file is removed and nothing appears at ``path``.
  public func cancel() {
    finished = true
    file.close()
  }

  deinit {
    if !finished { file.close() }
  }

  // MARK: - Internals

  private static func firstDuplicate(_ names: [String]) -> String? {
    var seen = Set<String>()
    for name in names where !seen.insert(name).inserted { return name }
    return nil
  }

  private func validate(
    imageCount: Int, genes: [Int32], batches: [Int32], provenance: CellProvenance?
  ) throws -> Int {
    guard !finished else { throw OPSDataError.io(path: path, message: "append after finish()") }
    let n = genes.count
    func invalid(_ message: String) -> OPSDataError {
      OPSDataError.invalidArgument(name: "\(path) append", message: message)
    }
    guard imageCount == n * valuesPerCell else {
      throw invalid(
        "\(imageCount) image samples for \(n) cells of \(channels.count)×\(height)×\(width)")
    }
    guard batches.count == n else {
      throw invalid("\(n) gene indices but \(batches.count) batch indices")
    }
    if let k = genes.firstIndex(where: { $0 < 0 || Int($0) >= self.genes.count }) {
      throw invalid(
        "gene index \(genes[k]) of cell \(count + k) is outside 0..<\(self.genes.count)")
    }
    if let k = batches.firstIndex(where: { $0 < 0 || Int($0) >= self.batches.count }) {
      throw invalid(
        "batch index \(batches[k]) of cell \(count + k) is outside 0..<\(self.batches.count)")
    }
    let fields = provenance?.fieldNames ?? []
    if let expected = provenanceFields, expected != fields, n > 0 {
      throw invalid("provenance fields \(fields) differ from the first append's \(expected)")
    }
    for (name, c) in provenance?.counts ?? [] where c != n {
      throw invalid("provenance '\(name)' has \(c) entries for \(n) cells")
    }
    return n
  }

  /// Appends `cells` images in the store's sample type: through HDF5 when uncompressed; otherwise
  /// compressed on ``compressionThreads`` threads and written as finished chunks.
  private func appendImages<T: HDF5Scalar>(_ values: [T], cells: Int) throws {
    guard codec.level != nil else {
      try imageData.append(values)
      return
    }
    let encoded = Locked([[UInt8]](repeating: [], count: cells))
    let failure = Locked<Error?>(nil)
    let workers = max(1, min(compressionThreads, cells))
    let codec = self.codec
    try values.withUnsafeBytes { raw in
      let source = UncheckedBox(raw)
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        for cell in stride(from: worker, to: cells, by: workers) {
          let start = cell * codec.rawBytes
          do {
            let bytes = try codec.encode(
              UnsafeRawBufferPointer(rebasing: source.value[start..<(start + codec.rawBytes)]))
            encoded.withLock { $0[cell] = bytes }
          } catch {
            failure.withLock { $0 = error }
          }
        }
      }
      if let error = failure.withLock({ $0 }) {
        throw OPSDataError.io(path: path, message: "cannot compress cells: \(error)")
      }
    }
    try imageData.resize(rows: count + cells)
    let chunks = encoded.withLock { $0 }
    for (k, bytes) in chunks.enumerated() {
      try bytes.withUnsafeBytes { try imageData.writeChunk(at: [count + k, 0, 0, 0], bytes: $0) }
    }
  }

  private func appendObs(n: Int, genes: [Int32], batches: [Int32], provenance: CellProvenance?)
    throws
  {
    try geneData.append(genes)
    try batchData.append(batches)
    if provenanceFields == nil {
      provenanceFields = provenance?.fieldNames ?? []
      let root = try file.root
      for name in provenanceFields ?? [] {
        let type: HDF5ElementType
        switch name {
        case "plate", "well": type = .string
        case "tile": type = .int32
        case "row": type = .int64
        default: type = .float32
        }
        // Earlier cells (none, since fields are fixed on the first append) need no padding.
        provenanceData[name] = try root.createDataset(
          "/obs/\(name)", type: type, shape: [0], options: .extendable(chunkRows: 16384))
      }
    }
    if let provenance {
      if let v = provenance.plate { try provenanceData["plate"]?.appendStrings(v) }
      if let v = provenance.well { try provenanceData["well"]?.appendStrings(v) }
      if let v = provenance.tile { try provenanceData["tile"]?.append(v) }
      if let v = provenance.y { try provenanceData["y"]?.append(v) }
      if let v = provenance.x { try provenanceData["x"]?.append(v) }
      if let v = provenance.row { try provenanceData["row"]?.append(v) }
    }
    count += n
  }

  private func checkExtraPath(_ path: String) throws -> String {
    let full = path.hasPrefix("/") ? path : "/" + path
    if CellStoreFormat.reserved.contains(full) {
      throw OPSDataError.invalidArgument(
        name: "\(self.path) \(full)", message: "is managed by the cell-store writer")
    }
    if file.contains(full) {
      throw OPSDataError.invalidArgument(name: "\(self.path) \(full)", message: "already exists")
    }
    return full
  }

  private func object(_ path: String) throws -> HDF5Object {
    let root = try file.root
    if path == "/" || path.isEmpty { return root }
    switch try root.kind(of: path) {
    case .group: return try root.group(path)
    case .dataset: return try root.dataset(path)
    default:
      throw OPSDataError.invalidArgument(
        name: "\(self.path) \(path)", message: "no such group or dataset")
    }
  }
}
