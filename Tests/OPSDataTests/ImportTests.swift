import Foundation
import TestSupport
import Testing

@testable import OPSData

/// The stores that `scripts/reference/opsdata_import_fixture.py` computed with numpy.
private struct ExpectedImport {
  let images: [Float]
  let genes: [String]
  let batches: [String]
  let gene: [Int32]
  let batch: [Int32]
  let row: [Int64]
  let skipped: Int

  init(_ input: String, _ mode: CellNormalization, scope: PercentileScope = .all) throws {
    let file = try HDF5File.open(Fixtures.path("import/expected.h5"))
    let group = try file.group(input)
    let name =
      scope == .image && mode != .none && mode != .controls
      ? mode.rawValue + "@image" : mode.rawValue
    images = try group.dataset(name).read(as: Float.self)
    genes = try group.dataset("genes").readStrings()
    batches = try group.dataset("batches").readStrings()
    gene = try group.dataset("gene").read(as: Int32.self)
    batch = try group.dataset("batch").read(as: Int32.self)
    row = try group.dataset("row").read(as: Int64.self)
    skipped = Int(try group.dataset("skipped").read(as: Int64.self)[0])
  }
}

/// Copies a fixture folder into a fresh temporary directory (so tests can damage it).
private func copyFixture(_ name: String) throws -> TemporaryDirectory {
  let dir = try TemporaryDirectory(prefix: "grape-import")
  let source = Fixtures.path("import/" + name)
  for item in try FileManager.default.contentsOfDirectory(atPath: source) {
    try FileManager.default.copyItem(
      atPath: (source as NSString).appendingPathComponent(item), toPath: dir.path(item))
  }
  return dir
}

private func expectClose(
  _ actual: [Float], _ expected: [Float], sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(actual.count == expected.count, sourceLocation: sourceLocation)
  var worst = 0.0
  for (a, e) in zip(actual, expected) {
    worst = max(worst, Double(abs(a - e)) / max(1, Double(abs(e))))
  }
  #expect(worst <= 2e-6, "largest relative difference \(worst)", sourceLocation: sourceLocation)
}

@Suite struct ImportTests {
  @Test(arguments: CellNormalization.allCases)
  func cropFilesMatchNumpy(mode: CellNormalization) throws {
    let dir = try copyFixture("crops")
    defer { dir.remove() }
    let out = dir.path("cells.h5")
    let summary = try CellImporter.run(
      CellImportOptions(
        tablePath: dir.path("crops.csv"), imagesDirectory: dir.url.path, outputPath: out,
        normalization: mode))
    let expected = try ExpectedImport("crops", mode)
    let store = try CellStore(path: out)
    #expect(summary.cells == 14 && store.count == 14)
    #expect(store.pixelType == (mode == .none ? .uint16 : .float32))
    #expect(store.channels == ["ch0", "ch1"] && store.height == 8 && store.width == 8)
    #expect(store.genes == expected.genes && store.batches == expected.batches)
    #expect(store.geneOfCell == expected.gene && store.batchOfCell == expected.batch)
    #expect(store.control == "nontargeting")
    #expect(try store.obs("row", as: Int64.self) == expected.row)
    #expect(try store.obsStrings("well")[4] == "A,1", "a quoted field with a comma")
    #expect(try store.obsStrings("plate")[3] == "P1")
    expectClose(try store.images(at: Array(0..<14)), expected.images)
    let preprocessing =
      try JSONSerialization.jsonObject(with: Data(store.preprocessing.utf8)) as? [String: Any]
    #expect(preprocessing?["normalize"] as? String == mode.rawValue)
    #expect(preprocessing?["mode"] as? String == "crops")
    #expect(
      (preprocessing?["percentiles"] != nil) == (mode == .percentile || mode == .percentileControls)
    )
    #expect(
      (preprocessing?["control_statistics"] != nil)
        == (mode == .controls || mode == .percentileControls))
  }

  @Test(arguments: CellNormalization.allCases)
  func tilesWithCentroidsMatchNumpy(mode: CellNormalization) throws {
    let dir = try copyFixture("tiles")
    defer { dir.remove() }
    let out = dir.path("cells.h5")
    let lines = Locked<[String]>([])
    let summary = try CellImporter.run(
      CellImportOptions(
        tablePath: dir.path("tiles.csv"), imagesDirectory: dir.url.path, outputPath: out, crop: 16,
        geneColumn: "gene_symbol_0", batchColumns: ["plate", "well"], normalization: mode,
        threads: 2),
      progress: { line in lines.withLock { $0.append(line) } })
    let expected = try ExpectedImport("tiles", mode)
    #expect(summary.skippedAtBorder == expected.skipped && expected.skipped == 4)
    let store = try CellStore(path: out)
    #expect(store.count == 9 && store.channels.count == 3 && store.height == 16)
    #expect(store.genes == expected.genes && store.batches == expected.batches)
    #expect(store.batches == ["P1_A1", "P2_B1"])
    #expect(store.geneOfCell == expected.gene && store.batchOfCell == expected.batch)
    #expect(try store.obs("row", as: Int64.self) == expected.row)
    #expect(
      try store.obs("tile", as: Int32.self)
        == expected.row.map { [1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0][Int($0)] })
    // Storage order: tile_1's rows (0, 2, 7, 9), then tile_0's (1, 4, 8, 10, 12).
    #expect(
      try store.obs("y", as: Float.self)[0] == 20 && store.obs("x", as: Float.self)[2] == 30.7)
    expectClose(try store.images(at: Array(0..<9)), expected.images)
    let log = lines.withLock { $0 }
    #expect(log.contains { $0.contains("4 skipped at the border") })
    #expect(log.contains { $0.hasPrefix("pass") && $0.contains("writing: 9 cells in") })
  }

  @Test(arguments: CellNormalization.allCases)
  func floatCropsMatchNumpy(mode: CellNormalization) throws {
    let dir = try copyFixture("floats")
    defer { dir.remove() }
    let out = dir.path("cells.h5")
    _ = try CellImporter.run(
      CellImportOptions(
        tablePath: dir.path("floats.csv"), imagesDirectory: dir.url.path, outputPath: out,
        normalization: mode))
    let expected = try ExpectedImport("floats", mode)
    let store = try CellStore(path: out)
    #expect(store.pixelType == .float32)
    #expect(store.batches == ["all"])
    expectClose(try store.images(at: Array(0..<8)), expected.images)
  }

  @Test func channelsAreNamedSelectedAndOrdered() throws {
    let dir = try copyFixture("crops")
    defer { dir.remove() }
    let expected = try ExpectedImport("crops", .none)
    for selection in [["actin"], ["1"]] {
      let out = dir.path("sel.h5")
      _ = try CellImporter.run(
        CellImportOptions(
          tablePath: dir.path("crops.csv"), imagesDirectory: dir.url.path, outputPath: out,
          channels: selection,
          channelNames: ["DNA", "actin"]))
      let store = try CellStore(path: out)
      #expect(store.channels == ["actin"])
      let images = try store.images(at: [5])
      #expect(images == Array(expected.images[(5 * 128 + 64)..<(5 * 128 + 128)]))
    }
    let out = dir.path("both.h5")
    _ = try CellImporter.run(
      CellImportOptions(
        tablePath: dir.path("crops.csv"), imagesDirectory: dir.url.path, outputPath: out, crop: 4,
        channels: ["ch1", "ch0"], compression: .none))
    let store = try CellStore(path: out)
    #expect(store.channels == ["ch1", "ch0"] && store.height == 4 && store.width == 4)
    #expect(try store.file.dataset("/images").filters == [])
    // Centre crop 4×4 of an 8×8 image starts at row 2, column 2.
    let cell = try store.images(at: [0])
    #expect(cell[0] == expected.images[64 + 2 * 8 + 2])
    #expect(cell[16 + 5] == expected.images[(1 + 2) * 8 + 2 + 1])
  }

  // MARK: - Bad input

  /// Runs an import expected to fail; returns the error text and checks no output is left.
  private func failure(
    _ dir: TemporaryDirectory, table: String, crop: Int? = nil, channels: [String]? = nil,
    channelNames: [String]? = nil,
    geneColumn: String = "gene", batchColumns: [String]? = nil, control: String = "nontargeting",
    normalization: CellNormalization = .none, sourceLocation: SourceLocation = #_sourceLocation
  ) -> String {
    let before = Set((try? FileManager.default.contentsOfDirectory(atPath: dir.url.path)) ?? [])
    var text = "succeeded"
    do {
      _ = try CellImporter.run(
        CellImportOptions(
          tablePath: dir.path(table), imagesDirectory: dir.url.path, outputPath: dir.path("out.h5"),
          crop: crop,
          channels: channels, channelNames: channelNames, geneColumn: geneColumn,
          batchColumns: batchColumns,
          control: control, normalization: normalization))
    } catch {
      text = "\(error)"
    }
    let after = Set((try? FileManager.default.contentsOfDirectory(atPath: dir.url.path)) ?? [])
    #expect(
      after == before, "files left behind: \(after.subtracting(before))",
      sourceLocation: sourceLocation)
    return text
  }

  private func rewriteTable(
    _ dir: TemporaryDirectory, _ name: String, _ edit: (inout [String]) -> Void
  ) throws {
    var lines = try String(contentsOfFile: dir.path(name), encoding: .utf8).replacingOccurrences(
      of: "\r\n", with: "\n"
    )
    .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    edit(&lines)
    try lines.joined(separator: "\n").write(
      toFile: dir.path(name), atomically: true, encoding: .utf8)
  }

  @Test func badTablesAreReportedWithFileAndRow() throws {
    let dir = try copyFixture("crops")
    defer { dir.remove() }
    let table = dir.path("crops.csv")
    #expect(
      failure(dir, table: "crops.csv", geneColumn: "gene_symbol_0")
        == "\(table): no column 'gene_symbol_0' (set --gene-column; columns: image, gene, batch, plate, well)"
    )
    #expect(
      failure(dir, table: "crops.csv", batchColumns: ["plate", "lane"]).hasPrefix(
        "\(table): no column 'lane'"))
    #expect(
      failure(dir, table: "crops.csv", control: "NTC")
        == "--control: gene 'NTC' does not occur in column 'gene' of \(table)")
    #expect(failure(dir, table: "missing.csv") == "\(dir.path("missing.csv")): file not found")
    do {
      _ = try CellImporter.run(
        CellImportOptions(
          tablePath: table, imagesDirectory: dir.url.path, outputPath: dir.path("img")))
      Issue.record("expected an error")
    } catch {
      #expect(
        "\(error)" == "--out: '\(dir.path("img"))' is a folder; give the path of the store file")
    }
    do {
      _ = try CellImporter.run(
        CellImportOptions(
          tablePath: table, imagesDirectory: dir.path("nowhere"), outputPath: dir.path("o.h5")))
      Issue.record("expected an error")
    } catch {
      #expect("\(error)" == "--images: '\(dir.path("nowhere"))' is not a folder")
    }

    try rewriteTable(dir, "crops.csv") { $0.insert("img/cell_15.tif,G1,B2,P1,A2", at: 15) }
    #expect(
      failure(dir, table: "crops.csv") == "\(table) row 16: image 'img/cell_15.tif' not found")
    try rewriteTable(dir, "crops.csv") { $0[15] = "img/cell_00.tif,,B2,P1,A2" }
    #expect(failure(dir, table: "crops.csv") == "\(table) row 16: empty gene (column 'gene')")
    try rewriteTable(dir, "crops.csv") { $0[15] = "img/cell_00.tif,G1,B2" }
    #expect(
      failure(dir, table: "crops.csv") == "\(table) row 16: 3 fields, but the header has 5 columns")
    try rewriteTable(dir, "crops.csv") { $0[15] = "" }
    #expect(
      failure(dir, table: "crops.csv", channelNames: ["a", "b", "c"])
        == "--channel-names: names 3 channels, but the images have 2")
    #expect(
      failure(dir, table: "crops.csv", channels: ["DNA"]).hasPrefix(
        "--channels: unknown channel 'DNA' (channels: ch0, ch1"))
    #expect(
      failure(dir, table: "crops.csv", crop: 9)
        == "\(table) row 2: image 'img/cell_00.tif' is 8×8 pixels, smaller than the crop 9×9")

    // Controls missing from one batch.
    try rewriteTable(dir, "crops.csv") { lines in
      for k in 8...10 { lines[k] = lines[k].replacingOccurrences(of: "nontargeting", with: "G1") }
    }
    #expect(
      failure(dir, table: "crops.csv", normalization: .controls)
        == "--normalize controls: batch 'B2' has no control cells ('nontargeting'); z-scoring needs them in every batch"
    )
  }

  @Test func badImagesAreReportedWithFileAndRow() throws {
    let dir = try copyFixture("crops")
    defer { dir.remove() }
    let table = dir.path("crops.csv")
    let three = TIFFImage(
      width: 8, height: 8, channels: 3, pixels: .uint16([UInt16](repeating: 5, count: 192)))
    try TIFFWriter.write(three, to: dir.path("img/cell_06.tif"))
    #expect(
      failure(dir, table: "crops.csv")
        == "\(table) row 8: image 'img/cell_06.tif' has 3 channels, but 'img/cell_00.tif' (row 2) has 2"
    )

    let bigger = TIFFImage(
      width: 10, height: 9, channels: 2, pixels: .uint16([UInt16](repeating: 5, count: 180)))
    try TIFFWriter.write(bigger, to: dir.path("img/cell_06.tif"))
    #expect(
      failure(dir, table: "crops.csv").hasPrefix(
        "\(table) row 8: image 'img/cell_06.tif' is 9×10 pixels, but 'img/cell_00.tif' (row 2) is 8×8"
      ))

    let floats = TIFFImage(
      width: 8, height: 8, channels: 2, pixels: .float32([Float](repeating: 5, count: 128)))
    try TIFFWriter.write(floats, to: dir.path("img/cell_06.tif"))
    #expect(
      failure(dir, table: "crops.csv")
        == "\(table) row 8: image 'img/cell_06.tif' holds float32 samples, but 'img/cell_00.tif' (row 2) holds uint16"
    )

    // A file cut short: the header survives, the pixel data does not.
    let large = TIFFImage(
      width: 8, height: 8, channels: 2, pixels: .uint16((0..<128).map { UInt16($0) }))
    try TIFFWriter.write(
      large, to: dir.path("img/cell_06.tif"), options: TIFFWriteOptions(layout: .contiguous))
    let data = try Data(contentsOf: URL(fileURLWithPath: dir.path("img/cell_06.tif")))
    try data.prefix(data.count - 40).write(to: URL(fileURLWithPath: dir.path("img/cell_06.tif")))
    let truncated = failure(dir, table: "crops.csv")
    #expect(truncated.hasPrefix("\(table) row 8: image 'img/cell_06.tif': "), "\(truncated)")

    try "not a tiff".write(toFile: dir.path("img/cell_06.tif"), atomically: true, encoding: .utf8)
    #expect(
      failure(dir, table: "crops.csv").hasPrefix(
        "\(table) row 8: image 'img/cell_06.tif': not a readable TIFF file"))
  }

  @Test func nonFinitePixelsAreRejected() throws {
    let dir = try copyFixture("floats")
    defer { dir.remove() }
    var values = [Float](repeating: 1, count: 64)
    values[37] = .nan
    try TIFFWriter.write(
      TIFFImage(width: 8, height: 8, channels: 1, pixels: .float32(values)), to: dir.path("f3.tif"))
    let table = dir.path("floats.csv")
    for mode in CellNormalization.allCases {
      #expect(
        failure(dir, table: "floats.csv", normalization: mode)
          == "\(table) row 5: image 'f3.tif' has a non-finite pixel (nan) in channel 'ch0'")
    }
    values[37] = .infinity
    try TIFFWriter.write(
      TIFFImage(width: 8, height: 8, channels: 1, pixels: .float32(values)), to: dir.path("f3.tif"))
    #expect(
      failure(dir, table: "floats.csv")
        == "\(table) row 5: image 'f3.tif' has a non-finite pixel (inf) in channel 'ch0'")
  }

  @Test func centroidTablesAreChecked() throws {
    let dir = try copyFixture("tiles")
    defer { dir.remove() }
    let table = dir.path("tiles.csv")
    #expect(
      failure(dir, table: "tiles.csv", crop: 48, geneColumn: "gene_symbol_0")
        == "\(table): all 13 cells are closer than half a crop (24 px) to their image's border")
    try rewriteTable(dir, "tiles.csv") { $0[3] = "tile_1.tif,G1,P1,A1,1,eight,8.0" }
    #expect(
      failure(dir, table: "tiles.csv", crop: 16, geneColumn: "gene_symbol_0")
        == "\(table) row 4: y 'eight' is not a number")
    // Huge coordinates are named, not turned into an integer overflow.
    for huge in ["1e308", "12345678901234567890123"] {
      try rewriteTable(dir, "tiles.csv") { $0[3] = "tile_1.tif,G1,P1,A1,1,8.0,\(huge)" }
      #expect(
        failure(dir, table: "tiles.csv", crop: 16, geneColumn: "gene_symbol_0")
          == "\(table) row 4: x '\(huge)' lies outside any image (pixel coordinates are below 10⁹)")
    }
    try rewriteTable(dir, "tiles.csv") { lines in
      lines = lines.map { line in
        line.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(
          separator: ",")
      }
    }
    #expect(
      failure(dir, table: "tiles.csv", geneColumn: "gene_symbol_0")
        == "\(table): the table has column 'y' but not 'x'; centroids need both")
  }

  @Test func eightBitInputBecomesUInt16OrExactPercentiles() throws {
    let dir = try TemporaryDirectory(prefix: "grape-import")
    defer { dir.remove() }
    var table = "image,gene,batch\n"
    var all: [[Double]] = [[], []]
    var raw: [[UInt8]] = []
    for k in 0..<6 {
      let pixels = (0..<(2 * 36)).map { UInt8(($0 * 37 + k * 101) % 251) }
      raw.append(pixels)
      for c in 0..<2 { all[c] += pixels[(c * 36)..<((c + 1) * 36)].map(Double.init) }
      try TIFFWriter.write(
        TIFFImage(width: 6, height: 6, channels: 2, pixels: .uint8(pixels)),
        to: dir.path("c\(k).tif"))
      table += "c\(k).tif,\(k < 2 ? "nontargeting" : "G\(k % 2)"),b\n"
    }
    try table.write(toFile: dir.path("t.csv"), atomically: true, encoding: .utf8)
    let plain = dir.path("plain.h5")
    _ = try CellImporter.run(
      CellImportOptions(
        tablePath: dir.path("t.csv"), imagesDirectory: dir.url.path, outputPath: plain))
    let store = try CellStore(path: plain)
    #expect(store.pixelType == .uint16)
    #expect(try store.rawImages(at: [3]) == .uint16(raw[3].map(UInt16.init)))

    let scaled = dir.path("scaled.h5")
    _ = try CellImporter.run(
      CellImportOptions(
        tablePath: dir.path("t.csv"), imagesDirectory: dir.url.path, outputPath: scaled,
        normalization: .percentile))
    // numpy's linear percentile, computed naively here.
    func percentile(_ values: [Double], _ q: Double) -> Double {
      let sorted = values.sorted()
      let position = q * Double(sorted.count - 1)
      let lower = Int(position.rounded(.down))
      return sorted[lower] + (sorted[min(lower + 1, sorted.count - 1)] - sorted[lower])
        * (position - Double(lower))
    }
    let ranges = all.map { (percentile($0, 0.001), percentile($0, 0.999)) }
    let images = try CellStore(path: scaled).images(at: Array(0..<6))
    var expected: [Float] = []
    for k in 0..<6 {
      for c in 0..<2 {
        for v in raw[k][(c * 36)..<((c + 1) * 36)] {
          expected.append(
            Float(min(max((Double(v) - ranges[c].0) / (ranges[c].1 - ranges[c].0), 0), 1)))
        }
      }
    }
    expectClose(images, expected)
  }

  @Test func repeatedImagesAreGroupedAndSpanSeveralWindowsAndChunks() throws {
    let dir = try copyFixture("crops")
    defer { dir.remove() }
    let lines = try String(contentsOfFile: dir.path("crops.csv"), encoding: .utf8)
      .replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map(String.init)
    // 25 passes over the 14 data rows: 350 cells, 14 images of 25 cells each.
    var table = lines[0] + "\n"
    for _ in 0..<25 { table += lines[1...].joined(separator: "\n") + "\n" }
    try table.write(toFile: dir.path("repeated.csv"), atomically: true, encoding: .utf8)
    let out = dir.path("cells.h5")
    _ = try CellImporter.run(
      CellImportOptions(
        tablePath: dir.path("repeated.csv"), imagesDirectory: dir.url.path, outputPath: out,
        threads: 2))
    let store = try CellStore(path: out)
    #expect(store.count == 350)
    let rows = try store.obs("row", as: Int64.self)
    // Image k's 25 rows come first for k = 0, 1, ...: rows k, k + 14, k + 28, ...
    #expect(rows == (0..<14).flatMap { k in (0..<25).map { Int64(k + 14 * $0) } })
    let expected = try ExpectedImport("crops", .none)
    let images = try store.images(at: Array(0..<350))
    for cell in [0, 24, 25, 127, 128, 200, 255, 256, 349] {
      let source = Int(rows[cell]) % 14
      expectClose(
        Array(images[(cell * 128)..<((cell + 1) * 128)]),
        Array(expected.images[(source * 128)..<((source + 1) * 128)]))
    }
    #expect(store.geneOfCell == rows.map { expected.gene[Int($0) % 14] })
  }

  @Test(arguments: [CellNormalization.percentile, .percentileControls])
  func percentilesPerSourceImageMatchNumpy(mode: CellNormalization) throws {
    for input in ["crops", "tiles"] {
      let dir = try copyFixture(input)
      defer { dir.remove() }
      let out = dir.path("cells.h5")
      let options =
        input == "crops"
        ? CellImportOptions(
          tablePath: dir.path("crops.csv"), imagesDirectory: dir.url.path, outputPath: out,
          normalization: mode, percentileScope: .image)
        : CellImportOptions(
          tablePath: dir.path("tiles.csv"), imagesDirectory: dir.url.path, outputPath: out,
          crop: 16,
          geneColumn: "gene_symbol_0", batchColumns: ["plate", "well"], normalization: mode,
          percentileScope: .image)
      let lines = Locked<[String]>([])
      _ = try CellImporter.run(options, progress: { line in lines.withLock { $0.append(line) } })
      let expected = try ExpectedImport(input, mode, scope: .image)
      let store = try CellStore(path: out)
      expectClose(try store.images(at: Array(0..<store.count)), expected.images)
      #expect(store.preprocessing.contains(#""scope":"image""#))
      // No statistics pass for the percentiles: one pass, or two with control statistics.
      let passes = mode == .percentile ? 1 : 2
      #expect(lines.withLock { $0 }.contains { $0.contains("; \(passes) pass") })
    }
  }

  @Test func constantImagesCannotBeRescaledPerImage() throws {
    let dir = try copyFixture("crops")
    defer { dir.remove() }
    let flat = TIFFImage(
      width: 8, height: 8, channels: 2, pixels: .uint16([UInt16](repeating: 7, count: 128)))
    try TIFFWriter.write(flat, to: dir.path("img/cell_03.tif"))
    let table = dir.path("crops.csv")
    do {
      _ = try CellImporter.run(
        CellImportOptions(
          tablePath: table, imagesDirectory: dir.url.path, outputPath: dir.path("o.h5"),
          normalization: .percentile, percentileScope: .image))
      Issue.record("expected an error")
    } catch {
      #expect(
        "\(error)"
          == "\(table) row 5: image 'img/cell_03.tif' has equal 0.1 and 99.9 percentiles (7.0) in channel 'ch0'; it cannot be rescaled"
      )
    }
    #expect(!FileManager.default.fileExists(atPath: dir.path("o.h5")))
  }
}
