import Foundation

/// The validated contents of an import: which images to read, which cells to cut from them and with
/// which labels, checked before any pixel is decoded (pass 0).
///
/// Cells are ordered by image (images in order of first appearance in the table, rows in table
/// order within an image), so every image is decoded once per pass.
struct ImportPlan: Sendable {
  /// Whether crops are whole files or cut around centroids.
  enum Mode: String, Sendable { case crops, centroids }

  let tableName: String
  let mode: Mode
  let imagePaths: [String]
  let imageNames: [String]
  let imageFirstRow: [Int]
  let sourceChannelNames: [String]
  let sourcePixelType: PixelType
  /// File channel indices to keep, in output order.
  let selected: [Int]
  let channelNames: [String]
  let cropHeight: Int
  let cropWidth: Int
  let genes: [String]
  let batches: [String]
  let controlIndex: Int
  let skippedAtBorder: Int
  /// Rows that name the same cell as an earlier row (the same image, and centroid when given),
  /// as (row, earlier row) table row numbers; they are imported as separate cells.
  let repeatedRows: [(row: Int, earlier: Int)]

  // Per kept cell, in storage order.
  let cellImage: [Int32]
  let cellRow: [Int32]
  let cellRowNumber: [Int32]
  let cellTop: [Int32]
  let cellLeft: [Int32]
  let cellGene: [Int32]
  let cellBatch: [Int32]
  let cellY: [Float]?
  let cellX: [Float]?
  let cellPlate: [String]?
  let cellWell: [String]?
  let cellTile: [Int32]?
  /// Ranges of cells sharing an image, in storage order.
  let groups: [(image: Int, cells: Range<Int>)]

  var cellCount: Int { cellImage.count }
  var valuesPerCell: Int { selected.count * cropHeight * cropWidth }

  /// A table error at data row `row` (0-based).
  static func rowError(_ table: CSVTable, _ name: String, _ row: Int, _ message: String)
    -> OPSDataError
  {
    OPSDataError.table(path: name, row: table.rowNumbers[row], message: message)
  }

  /// Why an image could not be used, without its path (the caller names it).
  static func imageReason(_ error: Error) -> String {
    guard let error = error as? OPSDataError else { return ": \(error)" }
    switch error {
    case .fileNotFound: return " not found"
    case .tiff(_, let reason): return ": \(reason)"
    case .unsupportedTIFF(_, let reason): return ": unsupported TIFF: \(reason)"
    default: return ": \(error.description)"
    }
  }

  // swiftlint:disable:next function_body_length cyclomatic_complexity
  init(options: CellImportOptions, progress: ProgressReporter?) throws {
    let name = options.tablePath
    tableName = name
    let table = try CSVTable(path: options.tablePath)
    guard !table.rows.isEmpty else {
      throw OPSDataError.table(path: name, row: nil, message: "the table has no data rows")
    }
    let columnList = table.header.joined(separator: ", ")
    func column(_ column: String, flag: String) throws -> Int {
      guard let index = table.column(column) else {
        throw OPSDataError.table(
          path: name, row: nil, message: "no column '\(column)' (\(flag); columns: \(columnList))")
      }
      return index
    }
    let imageColumn = try column(options.imageColumn, flag: "the image path column")
    let geneColumn = try column(options.geneColumn, flag: "set --gene-column")
    var batchColumns: [Int] = []
    if let names = options.batchColumns {
      guard !names.isEmpty else {
        throw OPSDataError.invalidArgument(name: "--batch-columns", message: "no column given")
      }
      for batchName in names { batchColumns.append(try column(batchName, flag: "--batch-columns")) }
    } else if let batch = table.column("batch") {
      batchColumns = [batch]
    } else {
      progress?.note(
        "no 'batch' column: all cells go into one batch 'all' (name batch columns with --batch-columns)"
      )
    }
    let yColumn = table.column("y")
    let xColumn = table.column("x")
    if (yColumn == nil) != (xColumn == nil) {
      throw OPSDataError.table(
        path: name, row: nil,
        message:
          "the table has column '\(yColumn == nil ? "x" : "y")' but not '\(yColumn == nil ? "y" : "x")'; centroids need both"
      )
    }
    mode = yColumn != nil ? .centroids : .crops
    if let crop = options.crop, crop <= 0 {
      throw OPSDataError.invalidArgument(name: "--crop", message: "\(crop) is not a positive size")
    }

    // Rows: labels, image references, centroids.
    let rowCount = table.rows.count
    var rowImage = [Int](repeating: 0, count: rowCount)
    var rowGene = [String](repeating: "", count: rowCount)
    var rowBatch = [String](repeating: "", count: rowCount)
    var rowY = [Double](repeating: 0, count: mode == .centroids ? rowCount : 0)
    var rowX = [Double](repeating: 0, count: mode == .centroids ? rowCount : 0)
    var imageIndex: [String: Int] = [:]
    var imageNames: [String] = []
    var imageFirstRow: [Int] = []
    for (r, fields) in table.rows.enumerated() {
      let image = fields[imageColumn].trimmingCharacters(in: .whitespaces)
      guard !image.isEmpty else {
        throw Self.rowError(table, name, r, "empty image path (column '\(options.imageColumn)')")
      }
      let gene = fields[geneColumn].trimmingCharacters(in: .whitespaces)
      guard !gene.isEmpty else {
        throw Self.rowError(table, name, r, "empty gene (column '\(options.geneColumn)')")
      }
      var parts: [String] = []
      for c in batchColumns {
        let part = fields[c].trimmingCharacters(in: .whitespaces)
        guard !part.isEmpty else {
          throw Self.rowError(table, name, r, "empty batch (column '\(table.header[c])')")
        }
        parts.append(part)
      }
      rowGene[r] = gene
      rowBatch[r] = parts.isEmpty ? "all" : parts.joined(separator: "_")
      if let existing = imageIndex[image] {
        rowImage[r] = existing
      } else {
        imageIndex[image] = imageNames.count
        rowImage[r] = imageNames.count
        imageNames.append(image)
        imageFirstRow.append(r)
      }
      if let yColumn, let xColumn {
        for (c, axis) in [(yColumn, "y"), (xColumn, "x")] {
          guard let v = Double(fields[c].trimmingCharacters(in: .whitespaces)), v.isFinite else {
            throw Self.rowError(table, name, r, "\(axis) '\(fields[c])' is not a number")
          }
          // Beyond this no image can hold the cell, and the crop's pixel offset would overflow.
          guard abs(v) < 1e9 else {
            throw Self.rowError(table, name, r, "\(axis) '\(fields[c])' lies outside any image (pixel coordinates are below 10⁹)")
          }
          if axis == "y" { rowY[r] = v } else { rowX[r] = v }
        }
      }
    }

    // The same image (and centroid) twice is almost always a table joined twice.
    var firstRowOfCell: [String: Int] = [:]
    var repeats: [(row: Int, earlier: Int)] = []
    for r in 0..<rowCount {
      let key = "\(rowImage[r])" + (mode == .centroids ? " \(rowY[r]) \(rowX[r])" : "")
      if let earlier = firstRowOfCell[key] {
        repeats.append((table.rowNumbers[r], table.rowNumbers[earlier]))
      } else {
        firstRowOfCell[key] = r
      }
    }
    repeatedRows = repeats

    // Images: existence and layout, read from the TIFF headers only.
    let directory = options.imagesDirectory
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw OPSDataError.invalidArgument(
        name: "--images", message: "'\(directory)' is not a folder")
    }
    let imagePaths = imageNames.map {
      $0.hasPrefix("/") ? $0 : (directory as NSString).appendingPathComponent($0)
    }
    // Headers are read on `threads` threads; the first failing image in table order is reported.
    progress?.begin("reading image headers", total: imagePaths.count, unit: "images")
    let results = Locked([Result<TIFFInfo, Error>?](repeating: nil, count: imagePaths.count))
    let next = Locked(0)
    let stop = Locked(false)
    let paths = imagePaths
    DispatchQueue.concurrentPerform(iterations: max(1, min(options.threads, paths.count))) { _ in
      while !stop.withLock({ $0 }) {
        let start = next.withLock { value -> Int in
          defer { value += 64 }
          return value
        }
        guard start < paths.count else { break }
        for i in start..<min(start + 64, paths.count) {
          let result = Result { try TIFFReader.info(paths[i]) }
          results.withLock { $0[i] = result }
          if case .failure = result { stop.withLock { $0 = true } }
        }
        progress?.advance(min(start + 64, paths.count) - start)
      }
    }
    var infos: [TIFFInfo] = []
    infos.reserveCapacity(imagePaths.count)
    for (i, result) in results.withLock({ $0 }).enumerated() {
      switch result {
      case .success(let info)?:
        infos.append(info)
      case .failure(let error)?:
        throw Self.rowError(
          table, name, imageFirstRow[i], "image '\(imageNames[i])'\(Self.imageReason(error))")
      case nil:
        // Not reached: reading stopped at an earlier failure.
        throw OPSDataError.io(path: imagePaths[i], message: "header not read")
      }
    }
    progress?.end()
    guard let first = infos.first else {
      throw OPSDataError.table(path: name, row: nil, message: "no images")
    }
    for (i, info) in infos.enumerated() {
      let row = imageFirstRow[i]
      if info.channels != first.channels {
        throw Self.rowError(
          table, name, row,
          "image '\(imageNames[i])' has \(info.channels) channels, but '\(imageNames[0])' (row \(table.rowNumbers[imageFirstRow[0]])) has \(first.channels)"
        )
      }
      if info.pixelType != first.pixelType {
        throw Self.rowError(
          table, name, row,
          "image '\(imageNames[i])' holds \(info.pixelType.rawValue) samples, but '\(imageNames[0])' (row \(table.rowNumbers[imageFirstRow[0]])) holds \(first.pixelType.rawValue)"
        )
      }
    }
    sourcePixelType = first.pixelType

    // Channels: names of the file channels, then the selection.
    let sourceNames = options.channelNames ?? (0..<first.channels).map { "ch\($0)" }
    guard sourceNames.count == first.channels else {
      throw OPSDataError.invalidArgument(
        name: "--channel-names",
        message: "names \(sourceNames.count) channels, but the images have \(first.channels)")
    }
    if let duplicate = Dictionary(grouping: sourceNames, by: { $0 }).first(where: {
      $0.value.count > 1
    })?.key {
      throw OPSDataError.invalidArgument(
        name: "--channel-names", message: "'\(duplicate)' appears twice")
    }
    sourceChannelNames = sourceNames
    var selected: [Int] = []
    for token in options.channels ?? sourceNames {
      if let index = sourceNames.firstIndex(of: token) {
        selected.append(index)
      } else if let index = Int(token), index >= 0, index < sourceNames.count {
        selected.append(index)
      } else {
        throw OPSDataError.invalidArgument(
          name: "--channels",
          message:
            "unknown channel '\(token)' (channels: \(sourceNames.joined(separator: ", ")); or 0-based indices)"
        )
      }
    }
    guard !selected.isEmpty else {
      throw OPSDataError.invalidArgument(name: "--channels", message: "no channel selected")
    }
    guard Set(selected).count == selected.count else {
      throw OPSDataError.invalidArgument(name: "--channels", message: "a channel is selected twice")
    }
    self.selected = selected
    channelNames = selected.map { sourceNames[$0] }

    // Crop geometry and border checks.
    var keptRows: [Int] = []
    var top: [Int32] = []
    var left: [Int32] = []
    keptRows.reserveCapacity(rowCount)
    var skipped = 0
    switch mode {
    case .crops:
      let height = options.crop ?? first.height
      let width = options.crop ?? first.width
      for (i, info) in infos.enumerated() {
        if options.crop == nil, info.width != first.width || info.height != first.height {
          throw Self.rowError(
            table, name, imageFirstRow[i],
            "image '\(imageNames[i])' is \(info.height)×\(info.width) pixels, but '\(imageNames[0])' (row \(table.rowNumbers[imageFirstRow[0]])) is \(first.height)×\(first.width); give --crop to cut equal crops"
          )
        }
        if info.height < height || info.width < width {
          throw Self.rowError(
            table, name, imageFirstRow[i],
            "image '\(imageNames[i])' is \(info.height)×\(info.width) pixels, smaller than the crop \(height)×\(width)"
          )
        }
      }
      for r in 0..<rowCount {
        let info = infos[rowImage[r]]
        keptRows.append(r)
        top.append(Int32((info.height - height) / 2))
        left.append(Int32((info.width - width) / 2))
      }
      cropHeight = height
      cropWidth = width
    case .centroids:
      let size = options.crop ?? CellImportOptions.defaultCentroidCrop
      for r in 0..<rowCount {
        let info = infos[rowImage[r]]
        // The crop covers rows round(y) - size/2 ..< round(y) - size/2 + size (same for x).
        let y0 = Int((rowY[r] + 0.5).rounded(.down)) - size / 2
        let x0 = Int((rowX[r] + 0.5).rounded(.down)) - size / 2
        if y0 < 0 || x0 < 0 || y0 + size > info.height || x0 + size > info.width {
          skipped += 1
          continue
        }
        keptRows.append(r)
        top.append(Int32(y0))
        left.append(Int32(x0))
      }
      cropHeight = size
      cropWidth = size
    }
    skippedAtBorder = skipped
    guard !keptRows.isEmpty else {
      throw OPSDataError.table(
        path: name, row: nil,
        message:
          "all \(rowCount) cells are closer than half a crop (\(cropHeight / 2) px) to their image's border"
      )
    }

    // Labels.
    let genes = Set(keptRows.map { rowGene[$0] }).sorted()
    let batches = Set(keptRows.map { rowBatch[$0] }).sorted()
    guard let controlIndex = genes.firstIndex(of: options.control) else {
      throw OPSDataError.invalidArgument(
        name: "--control",
        message:
          "gene '\(options.control)' does not occur in column '\(options.geneColumn)' of \(name)")
    }
    self.genes = genes
    self.batches = batches
    self.controlIndex = controlIndex
    let geneIndex = Dictionary(uniqueKeysWithValues: genes.enumerated().map { ($1, Int32($0)) })
    let batchIndex = Dictionary(uniqueKeysWithValues: batches.enumerated().map { ($1, Int32($0)) })

    // Storage order: grouped by image, images in order of first appearance (stable sort).
    let order = keptRows.indices.sorted {
      (rowImage[keptRows[$0]], $0) < (rowImage[keptRows[$1]], $1)
    }
    let sortedRows = order.map { keptRows[$0] }
    cellRow = sortedRows.map { Int32($0) }
    cellRowNumber = sortedRows.map { Int32(table.rowNumbers[$0]) }
    cellImage = sortedRows.map { Int32(rowImage[$0]) }
    cellTop = order.map { top[$0] }
    cellLeft = order.map { left[$0] }
    cellGene = sortedRows.map { geneIndex[rowGene[$0]] ?? 0 }
    cellBatch = sortedRows.map { batchIndex[rowBatch[$0]] ?? 0 }
    if mode == .centroids {
      cellY = sortedRows.map { Float(rowY[$0]) }
      cellX = sortedRows.map { Float(rowX[$0]) }
    } else {
      cellY = nil
      cellX = nil
    }
    if let plate = table.column("plate") {
      cellPlate = sortedRows.map { table.rows[$0][plate] }
    } else {
      cellPlate = nil
    }
    if let well = table.column("well") {
      cellWell = sortedRows.map { table.rows[$0][well] }
    } else {
      cellWell = nil
    }
    if let tile = table.column("tile") {
      let parsed = sortedRows.map {
        Int32(table.rows[$0][tile].trimmingCharacters(in: .whitespaces))
      }
      cellTile = parsed.allSatisfy({ $0 != nil }) ? parsed.map { $0 ?? 0 } : nil
    } else {
      cellTile = nil
    }
    var groups: [(image: Int, cells: Range<Int>)] = []
    var start = 0
    for k in 1...cellImage.count where k == cellImage.count || cellImage[k] != cellImage[start] {
      groups.append((Int(cellImage[start]), start..<k))
      start = k
    }
    self.groups = groups
    self.imagePaths = imagePaths
    self.imageNames = imageNames
    self.imageFirstRow = imageFirstRow
  }
}
