import Foundation

/// Builds a cell store from TIFF images and a per-cell table (`grape import`).
///
/// The table has one row per cell with an `image` path (relative to the images folder), a gene
/// column and batch columns. Without `y`/`x` columns each image is the crop itself (centre-cut to
/// `crop` if given); with them, crops are cut around the centroids from larger images and cells
/// closer than half a crop to the border are skipped and counted.
///
/// Work proceeds in passes over the images, with bounded memory: pass 0 reads the table and the
/// TIFF headers and checks everything it can; statistics passes gather exact channel percentiles
/// and per-batch control moments when normalising; the last pass writes the store. Cells are stored
/// grouped by image (images in order of first appearance); `/obs/row` gives each cell's 0-based data
/// row in the table. Any failure leaves no output file.
public enum CellImporter {
  /// The quantiles used by `--normalize percentile` (GRAPE: 0.1 and 99.9 percent).
  public static let percentileRange = (low: 0.001, high: 0.999)

  /// Runs an import.
  ///
  /// - Parameter progress: receives periodic progress lines (the command line prints them to stderr).
  /// - Returns: a summary of what was written.
  /// - Throws: ``OPSDataError`` naming the table row, image, column or flag at fault.
  public static func run(
    _ options: CellImportOptions, progress: (@Sendable (String) -> Void)? = nil
  ) throws -> CellImportSummary {
    let started = Date()
    let reporter = progress.map { ProgressReporter(sink: $0) }
    guard options.threads >= 1 else {
      throw OPSDataError.invalidArgument(
        name: "threads", message: "\(options.threads) is not positive")
    }
    let outputFolder = URL(fileURLWithPath: options.outputPath).deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: outputFolder, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw OPSDataError.invalidArgument(
        name: "--out", message: "folder '\(outputFolder)' does not exist")
    }

    var outputIsDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: options.outputPath, isDirectory: &outputIsDirectory),
      outputIsDirectory.boolValue
    {
      throw OPSDataError.invalidArgument(
        name: "--out",
        message: "'\(options.outputPath)' is a folder; give the path of the store file")
    }
    let plan = try ImportPlan(options: options, progress: reporter)
    let normalization = options.normalization
    let floatInput = plan.sourcePixelType == .float32
    let datasetPercentiles = normalization.usesPercentiles && options.percentileScope == .all
    let passes =
      (datasetPercentiles ? (floatInput ? 2 : 1) : 0)
      + (normalization.usesControls ? 1 : 0) + 1
    var pass = 0
    reporter?.note(
      "\(plan.cellCount) cells from \(plan.imagePaths.count) images"
        + (plan.skippedAtBorder > 0 ? ", \(plan.skippedAtBorder) skipped at the border" : "")
        + "; \(passes) pass\(passes == 1 ? "" : "es")")

    var transform = IntensityTransform()
    transform.perImagePercentiles =
      normalization.usesPercentiles && options.percentileScope == .image
    let allGroups = Array(plan.groups.indices)

    // Percentiles per channel over all crops.
    if datasetPercentiles {
      pass += 1
      reporter?.begin("pass \(pass)/\(passes) percentiles", total: plan.cellCount, unit: "cells")
      let empty = [ChannelQuantiles](
        repeating: ChannelQuantiles(pixelType: plan.sourcePixelType), count: plan.selected.count)
      var counters = try forEachCell(
        plan, groups: allGroups, threads: options.threads, reporter: reporter, initial: empty
      ) { counters, _, crop, _ in
        addSamples(crop, plane: plan.cropHeight * plan.cropWidth, to: &counters, fine: false)
      }.reduce(into: empty) { total, part in for c in total.indices { total[c].merge(part[c]) } }
      reporter?.end()
      let quantiles = [percentileRange.low, percentileRange.high]
      if floatInput {
        pass += 1
        for c in counters.indices { counters[c].prepareRefinement(quantiles: quantiles) }
        reporter?.begin(
          "pass \(pass)/\(passes) percentiles (refinement)", total: plan.cellCount, unit: "cells")
        let fineEmpty = counters.map { $0.emptyRefinement() }
        let parts = try forEachCell(
          plan, groups: allGroups, threads: options.threads, reporter: reporter, initial: fineEmpty
        ) { fine, _, crop, _ in
          addSamples(crop, plane: plan.cropHeight * plan.cropWidth, to: &fine, fine: true)
        }
        for part in parts { for c in counters.indices { counters[c].mergeFine(part[c]) } }
        reporter?.end()
      }
      var ranges: [(low: Double, high: Double)] = []
      for (c, counter) in counters.enumerated() {
        let values = counter.values(quantiles: quantiles)
        guard values[1] > values[0] else {
          throw OPSDataError.invalidArgument(
            name: "--normalize percentile",
            message:
              "channel '\(plan.channelNames[c])' has equal 0.1 and 99.9 percentiles (\(values[0])); it cannot be rescaled"
          )
        }
        ranges.append((values[0], values[1]))
      }
      transform.percentiles = ranges
    }

    // Control moments per batch and channel (after rescaling, when both are on).
    if normalization.usesControls {
      pass += 1
      let controlGroups = plan.groups.indices.filter { g in
        plan.groups[g].cells.contains { plan.cellGene[$0] == Int32(plan.controlIndex) }
      }
      let controlCells = plan.cellGene.reduce(0) { $0 + ($1 == Int32(plan.controlIndex) ? 1 : 0) }
      reporter?.begin(
        "pass \(pass)/\(passes) control statistics", total: controlCells, unit: "cells")
      let plane = plan.cropHeight * plan.cropWidth
      let empty = [[RunningMoments]](
        repeating: [RunningMoments](repeating: RunningMoments(), count: plan.selected.count),
        count: plan.batches.count)
      let rescale = transform
      let control = Int32(plan.controlIndex)
      let parts = try forEachCell(
        plan, groups: controlGroups, threads: options.threads, reporter: reporter, initial: empty,
        only: { plan.cellGene[$0] == control }, transform: rescale,
        body: { moments, cell, crop, local in
          let batch = Int(plan.cellBatch[cell])
          for c in 0..<plan.selected.count {
            moments[batch][c].add(
              (c * plane..<(c + 1) * plane).lazy.map {
                local.rescaled(Double(crop.float(at: $0)), channel: c)
              })
          }
        })
      reporter?.end()
      var total = empty
      for part in parts {
        for b in total.indices { for c in total[b].indices { total[b][c].merge(part[b][c]) } }
      }
      var stats: [[(mean: Double, std: Double)]] = []
      for (b, channels) in total.enumerated() {
        guard channels.first.map({ $0.count > 0 }) == true else {
          throw OPSDataError.invalidArgument(
            name: "--normalize controls",
            message:
              "batch '\(plan.batches[b])' has no control cells ('\(plan.genes[plan.controlIndex])'); z-scoring needs them in every batch"
          )
        }
        var row: [(mean: Double, std: Double)] = []
        for (c, m) in channels.enumerated() {
          guard m.standardDeviation > 0 else {
            throw OPSDataError.invalidArgument(
              name: "--normalize controls",
              message:
                "the control cells of batch '\(plan.batches[b])' are constant in channel '\(plan.channelNames[c])'"
            )
          }
          row.append((m.mean, m.standardDeviation))
        }
        stats.append(row)
      }
      transform.controls = stats
    }

    // Write.
    pass += 1
    let preprocessing = try preprocessingJSON(options: options, plan: plan, transform: transform)
    let pixelType: PixelType = transform.isIdentity && !floatInput ? .uint16 : .float32
    let writer = try CellStoreWriter(
      path: options.outputPath, channels: plan.channelNames, height: plan.cropHeight,
      width: plan.cropWidth,
      pixelType: pixelType, genes: plan.genes, batches: plan.batches,
      control: plan.genes[plan.controlIndex],
      preprocessing: preprocessing, compression: options.compression)
    do {
      reporter?.begin("pass \(pass)/\(passes) writing", total: plan.cellCount, unit: "cells")
      try writeCells(
        plan, transform: transform, pixelType: pixelType, writer: writer, threads: options.threads,
        reporter: reporter)
      reporter?.end()
      try writer.finish()
    } catch {
      writer.cancel()
      throw error
    }
    var summary = CellImportSummary(
      cells: plan.cellCount, skippedAtBorder: plan.skippedAtBorder, genes: plan.genes.count,
      batches: plan.batches.count,
      channels: plan.channelNames, height: plan.cropHeight, width: plan.cropWidth,
      pixelType: pixelType,
      seconds: Date().timeIntervalSince(started), preprocessing: preprocessing)
    summary.repeatedRows = plan.repeatedRows.map { CellImportSummary.RepeatedRow(row: $0.row, earlier: $0.earlier) }
    return summary
  }

  // MARK: - Passes

  /// Decodes the images of `groups` on `threads` threads and calls `body` for each cell (optionally
  /// only those passing `only`) with its crop; each thread folds into its own accumulator.
  static func forEachCell<Accumulator: Sendable>(
    _ plan: ImportPlan, groups: [Int], threads: Int, reporter: ProgressReporter?,
    initial: Accumulator,
    only: ((Int) -> Bool)? = nil, transform: IntensityTransform = IntensityTransform(),
    body: (inout Accumulator, Int, PixelBuffer, IntensityTransform) throws -> Void
  ) throws -> [Accumulator] {
    let next = Locked(0)
    let failure = Locked<Error?>(nil)
    let results = Locked<[Accumulator]>([])
    let workers = max(1, min(threads, groups.count))
    // The closure runs synchronously on `workers` threads; shared state goes through locks.
    withoutActuallyEscaping(body) { body in
      withoutActuallyEscaping(only ?? { _ in true }) { only in
        let context = UncheckedBox((body, only))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
          var accumulator = initial
          let (body, only) = context.value
          while failure.withLock({ $0 == nil }) {
            let k = next.withLock { value -> Int in
              defer { value += 1 }
              return value
            }
            guard k < groups.count else { break }
            let group = plan.groups[groups[k]]
            do {
              let image = try decode(plan, group: group)
              let local = try imageTransform(plan, transform, image: image, group: group)
              var processed = 0
              for cell in group.cells where only(cell) {
                try body(&accumulator, cell, try crop(plan, image: image, cell: cell), local)
                processed += 1
              }
              reporter?.advance(processed)
            } catch {
              failure.withLock { if $0 == nil { $0 = error } }
            }
          }
          let finished = accumulator
          results.withLock { $0.append(finished) }
        }
      }
    }
    if let error = failure.withLock({ $0 }) { throw error }
    return results.withLock { $0 }
  }

  /// `transform` with the percentiles of `image` when they are taken per image; errors (a
  /// non-finite pixel, a constant channel) name the image's first table row.
  static func imageTransform(
    _ plan: ImportPlan, _ transform: IntensityTransform, image: TIFFImage,
    group: (image: Int, cells: Range<Int>)
  ) throws -> IntensityTransform {
    guard transform.perImagePercentiles else { return transform }
    let row = Int(plan.cellRowNumber[group.cells.lowerBound])
    let name = plan.imageNames[group.image]
    if let bad = firstNonFinite(image.pixels, plane: image.width * image.height) {
      throw OPSDataError.table(
        path: plan.tableName, row: row,
        message:
          "image '\(name)' has a non-finite pixel (\(bad.value)) in channel '\(plan.channelNames[bad.channel])'"
      )
    }
    switch imagePercentileRanges(image) {
    case .success(let ranges):
      return transform.forImage(ranges)
    case .failure(let constant):
      throw OPSDataError.table(
        path: plan.tableName, row: row,
        message:
          "image '\(name)' has equal 0.1 and 99.9 percentiles (\(constant.value)) in channel "
          + "'\(plan.channelNames[constant.channel])'; it cannot be rescaled")
    }
  }

  /// Decodes the selected channels of a group's image; errors name the table row.
  static func decode(_ plan: ImportPlan, group: (image: Int, cells: Range<Int>)) throws -> TIFFImage
  {
    do {
      return try TIFFReader.read(plan.imagePaths[group.image], channels: plan.selected)
    } catch {
      throw OPSDataError.table(
        path: plan.tableName, row: Int(plan.cellRowNumber[group.cells.lowerBound]),
        message: "image '\(plan.imageNames[group.image])'\(ImportPlan.imageReason(error))")
    }
  }

  /// The crop of `cell`, checked for non-finite samples.
  static func crop(_ plan: ImportPlan, image: TIFFImage, cell: Int) throws -> PixelBuffer {
    let top = Int(plan.cellTop[cell])
    let left = Int(plan.cellLeft[cell])
    let row = Int(plan.cellRowNumber[cell])
    let name = plan.imageNames[Int(plan.cellImage[cell])]
    guard top + plan.cropHeight <= image.height, left + plan.cropWidth <= image.width else {
      throw OPSDataError.table(
        path: plan.tableName, row: row, message: "image '\(name)' changed size during the import")
    }
    let crop = extractCrop(
      image, top: top, left: left, height: plan.cropHeight, width: plan.cropWidth)
    if let bad = firstNonFinite(crop, plane: plan.cropHeight * plan.cropWidth) {
      throw OPSDataError.table(
        path: plan.tableName, row: row,
        message:
          "image '\(name)' has a non-finite pixel (\(bad.value)) in channel '\(plan.channelNames[bad.channel])'"
      )
    }
    return crop
  }

  /// Adds a crop's samples, channel by channel, to per-channel quantile counters.
  static func addSamples(
    _ crop: PixelBuffer, plane: Int, to counters: inout [ChannelQuantiles], fine: Bool
  ) {
    for c in counters.indices {
      let range = (c * plane)..<((c + 1) * plane)
      switch crop {
      case .uint8(let v): v[range].withUnsafeBufferPointer { counters[c].add($0) }
      case .uint16(let v): v[range].withUnsafeBufferPointer { counters[c].add($0) }
      case .float32(let v):
        v[range].withUnsafeBufferPointer { fine ? counters[c].addFine($0) : counters[c].add($0) }
      }
    }
  }

  /// A chunk of finished cells on its way to the writer.
  struct Chunk: Sendable {
    var integers: [UInt16] = []
    var floats: [Float] = []
    var genes: [Int32] = []
    var batches: [Int32] = []
    var rows: [Int64] = []
    var plate: [String] = []
    var well: [String] = []
    var tile: [Int32] = []
    var y: [Float] = []
    var x: [Float] = []

    /// Appends the cells `cells` of `other` (`perCell` samples each).
    mutating func append(_ other: Chunk, cells: Range<Int>, perCell: Int) {
      let samples = (cells.lowerBound * perCell)..<(cells.upperBound * perCell)
      if !other.integers.isEmpty { integers.append(contentsOf: other.integers[samples]) }
      if !other.floats.isEmpty { floats.append(contentsOf: other.floats[samples]) }
      genes.append(contentsOf: other.genes[cells])
      batches.append(contentsOf: other.batches[cells])
      rows.append(contentsOf: other.rows[cells])
      if !other.plate.isEmpty { plate.append(contentsOf: other.plate[cells]) }
      if !other.well.isEmpty { well.append(contentsOf: other.well[cells]) }
      if !other.tile.isEmpty { tile.append(contentsOf: other.tile[cells]) }
      if !other.y.isEmpty { y.append(contentsOf: other.y[cells]) }
      if !other.x.isEmpty { x.append(contentsOf: other.x[cells]) }
    }
  }

  /// Decodes the images of `groups` on up to `threads` threads and returns, per image in order,
  /// its cells ready for the store; the first failure in storage order is thrown.
  static func produceWindow(
    _ plan: ImportPlan, groups: Range<Int>, transform: IntensityTransform, pixelType: PixelType,
    threads: Int
  ) throws -> [Chunk] {
    let results = Locked([Result<Chunk, Error>?](repeating: nil, count: groups.count))
    let workers = max(1, min(threads, groups.count))
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      for k in stride(from: worker, to: groups.count, by: workers) {
        let result = Result {
          try produceGroup(
            plan, group: plan.groups[groups.lowerBound + k], transform: transform,
            pixelType: pixelType)
        }
        results.withLock { $0[k] = result }
      }
    }
    return try results.withLock { $0 }.map { result in
      guard let result else {
        throw OPSDataError.io(path: plan.tableName, message: "internal: image not processed")
      }
      return try result.get()
    }
  }

  /// The cells of one image, cropped and transformed, with their labels.
  static func produceGroup(
    _ plan: ImportPlan, group: (image: Int, cells: Range<Int>), transform: IntensityTransform,
    pixelType: PixelType
  ) throws -> Chunk {
    let image = try decode(plan, group: group)
    let transform = try imageTransform(plan, transform, image: image, group: group)
    let plane = plan.cropHeight * plan.cropWidth
    var chunk = Chunk()
    for cell in group.cells {
      let crop = try crop(plan, image: image, cell: cell)
      if pixelType == .uint16 {
        switch crop {
        case .uint16(let v): chunk.integers.append(contentsOf: v)
        case .uint8(let v): chunk.integers.append(contentsOf: v.lazy.map { UInt16($0) })
        case .float32: break  // float input always makes a float store
        }
      } else {
        transform.apply(crop, batch: Int(plan.cellBatch[cell]), plane: plane, into: &chunk.floats)
      }
      chunk.genes.append(plan.cellGene[cell])
      chunk.batches.append(plan.cellBatch[cell])
      chunk.rows.append(Int64(plan.cellRow[cell]))
      if let plate = plan.cellPlate { chunk.plate.append(plate[cell]) }
      if let well = plan.cellWell { chunk.well.append(well[cell]) }
      if let tile = plan.cellTile { chunk.tile.append(tile[cell]) }
      if let y = plan.cellY { chunk.y.append(y[cell]) }
      if let x = plan.cellX { chunk.x.append(x[cell]) }
    }
    return chunk
  }

  /// The write pass: a decoding thread fills chunks of cells, this thread appends them to the store.
  static func writeCells(
    _ plan: ImportPlan, transform: IntensityTransform, pixelType: PixelType,
    writer: CellStoreWriter, threads: Int,
    reporter: ProgressReporter?
  ) throws {
    let queue = BoundedQueue<Result<Chunk, Error>>(capacity: 4)
    let chunkCells = 128
    let perCell = plan.valuesPerCell
    let producer = Thread {
      var chunk = Chunk()
      do {
        // Windows of whole images (at least 256 cells, at most 64 images) are decoded on
        // `threads` threads, then their cells are queued in storage order, 128 at a time.
        var first = 0
        while first < plan.groups.count, !queue.isCancelled {
          var end = first
          var cells = 0
          while end < plan.groups.count && (end == first || (cells < 256 && end - first < 64)) {
            cells += plan.groups[end].cells.count
            end += 1
          }
          let outputs = try produceWindow(
            plan, groups: first..<end, transform: transform, pixelType: pixelType,
            threads: threads)
          for output in outputs {
            var start = 0
            while start < output.genes.count {
              let take = min(chunkCells - chunk.genes.count, output.genes.count - start)
              chunk.append(output, cells: start..<(start + take), perCell: perCell)
              start += take
              if chunk.genes.count == chunkCells {
                guard queue.push(.success(chunk)) else { break }
                chunk = Chunk()
              }
            }
          }
          first = end
        }
        if !chunk.genes.isEmpty { _ = queue.push(.success(chunk)) }
      } catch {
        _ = queue.push(.failure(error))
      }
      queue.close()
    }
    producer.name = "grape.import.decode"
    producer.start()
    defer { queue.cancel() }
    while let item = queue.pop() {
      let chunk = try item.get()
      let provenance = CellProvenance(
        plate: plan.cellPlate == nil ? nil : chunk.plate,
        well: plan.cellWell == nil ? nil : chunk.well,
        tile: plan.cellTile == nil ? nil : chunk.tile, y: plan.cellY == nil ? nil : chunk.y,
        x: plan.cellX == nil ? nil : chunk.x, row: chunk.rows)
      if pixelType == .uint16 {
        try writer.append(
          images: chunk.integers, genes: chunk.genes, batches: chunk.batches, provenance: provenance
        )
      } else {
        try writer.append(
          images: chunk.floats, genes: chunk.genes, batches: chunk.batches, provenance: provenance)
      }
      reporter?.advance(chunk.genes.count)
    }
    guard writer.count == plan.cellCount else {
      throw OPSDataError.io(
        path: writer.path, message: "wrote \(writer.count) of \(plan.cellCount) cells")
    }
  }

  // MARK: - Provenance of the preprocessing

  /// The `preprocessing` attribute: every choice and statistic of the import, as sorted-key JSON.
  static func preprocessingJSON(
    options: CellImportOptions, plan: ImportPlan, transform: IntensityTransform
  ) throws -> String {
    var object: [String: Any] = [
      "tool": "grape import",
      "table": options.tablePath,
      "images": options.imagesDirectory,
      "mode": plan.mode.rawValue,
      "crop": [plan.cropHeight, plan.cropWidth],
      "channels": plan.channelNames,
      "source_channels": plan.sourceChannelNames,
      "source_pixel_type": plan.sourcePixelType.rawValue,
      "gene_column": options.geneColumn,
      "batch_columns": options.batchColumns ?? (plan.batches == ["all"] ? [] : ["batch"]),
      "control": options.control,
      "normalize": options.normalization.rawValue,
      "skipped_at_border": plan.skippedAtBorder,
      "order": "grouped by image in order of first appearance; /obs/row is the 0-based table row",
    ]
    if transform.perImagePercentiles {
      object["percentiles"] = [
        "scope": "image", "quantiles": [percentileRange.low * 100, percentileRange.high * 100],
      ]
    } else if let percentiles = transform.percentiles {
      object["percentiles"] = [
        "scope": "all",
        "quantiles": [percentileRange.low * 100, percentileRange.high * 100],
        "values": Dictionary(
          uniqueKeysWithValues: zip(plan.channelNames, percentiles.map { [$0.low, $0.high] })),
      ]
    }
    if let controls = transform.controls {
      var perBatch: [String: Any] = [:]
      for (b, channels) in controls.enumerated() {
        perBatch[plan.batches[b]] = Dictionary(
          uniqueKeysWithValues: zip(
            plan.channelNames, channels.map { ["mean": $0.mean, "std": $0.std] }))
      }
      object["control_statistics"] = perBatch
    }
    let data = try JSONSerialization.data(
      withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
  }
}

/// Carries a non-Sendable value into a synchronous concurrent loop whose shared state is locked.
struct UncheckedBox<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
