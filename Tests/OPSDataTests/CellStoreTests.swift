import Foundation
import TestSupport
import Testing

@testable import OPSData

/// Writes a small uint16 store: 3 channels of 4×5, genes g0..g3 (g0 the control), 2 batches.
/// Cell k's sample i is `k * 100 + i`, so every image is recognisable.
func makeSmallStore(
  at path: String, cells: Int = 23, pixelType: PixelType = .uint16, provenance: Bool = true
) throws -> (genes: [Int32], batches: [Int32]) {
  let writer = try CellStoreWriter(
    path: path, channels: ["DNA", "tubulin", "actin"], height: 4, width: 5, pixelType: pixelType,
    genes: ["g0", "g1", "g2", "g3"], batches: ["b0", "b1"], control: "g0",
    preprocessing: #"{"normalize":"none"}"#, compression: .standard)
  let perCell = 3 * 4 * 5
  var genes: [Int32] = []
  var batches: [Int32] = []
  var start = 0
  while start < cells {
    let n = min(7, cells - start)
    let ids = Array(start..<(start + n))
    let g = ids.map { Int32($0 % 4) }
    let b = ids.map { Int32(($0 / 3) % 2) }
    let images = ids.flatMap { k in (0..<perCell).map { UInt16(k * 100 + $0) } }
    let prov =
      provenance
      ? CellProvenance(
        plate: ids.map { "P\($0 % 2)" }, tile: ids.map { Int32($0) },
        y: ids.map { Float($0) + 0.5 }, x: ids.map { Float($0) * 2 })
      : nil
    if pixelType == .uint16 {
      try writer.append(images: images, genes: g, batches: b, provenance: prov)
    } else {
      try writer.append(
        images: images.map { Float($0) / 4 }, genes: g, batches: b, provenance: prov)
    }
    genes += g
    batches += b
    start += n
  }
  try writer.writeArray("/truth/complex", [-1, 0, 0, 1] as [Int32])
  try writer.writeArray("/truth/phenotype", (0..<8).map { Float($0) }, shape: [4, 2])
  try writer.writeGroupArray("/truth/complex_names", strings: ["A", "B"])
  try writer.writeGroupArray("/truth/effects", [0.5, 1.5] as [Double], shape: [1, 2])
  try writer.setAttribute("seed", 42.0, at: "/truth")
  try writer.finish()
  return (genes, batches)
}

@Suite struct CellStoreTests {
  @Test func writerAndReaderRoundTrip() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("cells.h5")
    let (genes, batches) = try makeSmallStore(at: path)
    let store = try CellStore(path: path)
    #expect(store.count == 23)
    #expect(store.channels == ["DNA", "tubulin", "actin"])
    #expect(store.height == 4 && store.width == 5 && store.cellShape == [3, 4, 5])
    #expect(store.pixelType == .uint16)
    #expect(store.genes == ["g0", "g1", "g2", "g3"] && store.batches == ["b0", "b1"])
    #expect(store.control == "g0" && store.controlIndex == 0)
    #expect(store.preprocessing == #"{"normalize":"none"}"#)
    #expect(store.geneOfCell == genes && store.batchOfCell == batches)
    #expect(store.cellsPerGene == [6, 6, 6, 5])
    #expect(store.cellsByGene[3] == [3, 7, 11, 15, 19])
    let order = [22, 0, 5, 5, 13]
    let images = try store.images(at: order)
    #expect(images.count == order.count * 60)
    for (row, cell) in order.enumerated() {
      #expect(
        Array(images[(row * 60)..<(row * 60 + 60)]) == (0..<60).map { Float(cell * 100 + $0) })
    }
    #expect(try store.rawImages(at: [2]) == .uint16((0..<60).map { UInt16(200 + $0) }))
    #expect(try store.provenanceFields() == ["plate", "tile", "x", "y"])
    #expect(try store.obsStrings("plate")[3] == "P1")
    #expect(try store.obs("tile", as: Int32.self) == (0..<23).map { Int32($0) })
    #expect(try store.obs("y", as: Float.self)[4] == 4.5)
    #expect(try store.array("/truth/complex", as: Int32.self).values == [-1, 0, 0, 1])
    #expect(try store.array("/truth/phenotype", as: Float.self).shape == [4, 2])
    #expect(try store.strings("/truth/complex_names") == ["A", "B"])
    #expect(try store.array("/truth/effects", as: Double.self).values == [0.5, 1.5])
    #expect(try store.array("/truth/effects", as: Double.self).shape == [1, 2])
    #expect(try store.file.group("/truth").attributes.double("seed") == 42)
    let imageData = try store.file.dataset("/images")
    #expect(try imageData.chunkShape == [1, 3, 4, 5])
    #expect(try imageData.filters == ["shuffle", "deflate"])
    #expect(throws: OPSDataError.self) { try store.images(at: [23]) }
    var small = [Float](repeating: 0, count: 119)
    #expect(throws: OPSDataError.self) {
      try small.withUnsafeMutableBufferPointer { try store.images(at: [1, 2], into: $0) }
    }
    #expect(small.allSatisfy { $0 == 0 }, "nothing is written into a buffer that is too small")
  }

  @Test func floatStoresKeepFloats() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("float.h5")
    _ = try makeSmallStore(at: path, cells: 5, pixelType: .float32, provenance: false)
    let store = try CellStore(path: path)
    #expect(store.pixelType == .float32)
    #expect(try store.images(at: [4]) == (0..<60).map { Float(400 + $0) / 4 })
    #expect(try store.provenanceFields() == [])
  }

  /// A NaN written into a float store by another tool is named by cell and channel when read.
  @Test(.enabled(if: Python.available(["h5py"]), "needs python3 with h5py (make test installs it)"))
  func nonFinitePixelsAreNamed() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("float.h5")
    _ = try makeSmallStore(at: path, cells: 5, pixelType: .float32, provenance: false)
    _ = try Python.run("import h5py, sys\nwith h5py.File(sys.argv[1], 'r+') as f: f['images'][3, 1, 2, 4] = float('nan')", arguments: [path])
    let store = try CellStore(path: path)
    #expect(try store.images(at: [0, 1, 2]).count == 180)
    let e = #expect(throws: OPSDataError.self) { try store.images(at: [3]) }
    #expect(e?.description == "\(path): cell 3 has a non-finite pixel (nan) in channel 'tubulin'; repair or drop the cell")
  }

  /// Gene and batch names that downstream commands cannot tell apart, and a control that names
  /// no gene, are refused when the store is opened (they trained, and failed at export).
  @Test(.enabled(if: Python.available(["h5py"]), "needs python3 with h5py (make test installs it)"))
  func ambiguousNamesAreRefusedAtOpen() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let cases: [(script: String, message: String)] = [
      ("names = ['g0', 'g1', 'g1', 'g3']", "/genes names 'g1' twice (entries 1 and 2)"),
      ("names = ['g0', 'g1', ' ', 'g3']", "/genes entry 2 is an empty name"),
      ("names = ['g0', 'g1', 'g2', 'g3']; f.attrs['control'] = 'NTC'", "the control 'NTC' (attribute 'control') is not among the 4 genes of /genes"),
    ]
    for (k, c) in cases.enumerated() {
      let path = dir.path("names-\(k).h5")
      _ = try makeSmallStore(at: path, cells: 5)
      _ = try Python.run(
        "import h5py, sys\nwith h5py.File(sys.argv[1], 'r+') as f:\n    \(c.script)\n    del f['genes']\n    f['genes'] = names",
        arguments: [path])
      #expect(throws: OPSDataError.notACellStore(path: path, reason: c.message)) { try CellStore(path: path) }
    }
  }

  @Test func writerRejectsInconsistentInput() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    func make(
      _ genes: [String] = ["a", "b"], control: String = "a", channels: [String] = ["c"],
      type: PixelType = .uint16, preprocessing: String = "{}"
    ) throws -> CellStoreWriter {
      try CellStoreWriter(
        path: dir.path("w.h5"), channels: channels, height: 2, width: 2, pixelType: type,
        genes: genes, batches: ["b"], control: control, preprocessing: preprocessing)
    }
    #expect(throws: OPSDataError.self) { try make(control: "zzz") }
    #expect(throws: OPSDataError.self) { try make(["a", "a"]) }
    #expect(throws: OPSDataError.self) { try make(channels: []) }
    #expect(throws: OPSDataError.self) { try make(type: .uint8) }
    #expect(throws: OPSDataError.self) { try make(preprocessing: "{not json") }
    let writer = try make()
    #expect(throws: OPSDataError.self) {
      try writer.append(images: [UInt16](repeating: 0, count: 7), genes: [0, 1], batches: [0, 0])
    }
    #expect(throws: OPSDataError.self) {
      try writer.append(images: [UInt16](repeating: 0, count: 8), genes: [0, 2], batches: [0, 0])
    }
    #expect(throws: OPSDataError.self) {
      try writer.append(images: [UInt16](repeating: 0, count: 8), genes: [0, 1], batches: [0, 1])
    }
    #expect(throws: OPSDataError.self) {
      try writer.append(images: [Float](repeating: .nan, count: 4), genes: [0], batches: [0])
    }
    #expect(throws: OPSDataError.self) {
      try writer.append(images: [Float](repeating: 1.5, count: 4), genes: [0], batches: [0])
    }
    #expect(throws: OPSDataError.self) { try writer.finish() }  // no cells
    try writer.append(
      images: [Float](repeating: 3, count: 4), genes: [0], batches: [0],
      provenance: CellProvenance(tile: [1]))
    #expect(throws: OPSDataError.self) {
      try writer.append(images: [UInt16](repeating: 0, count: 4), genes: [1], batches: [0])
    }
    #expect(throws: OPSDataError.self) {
      try writer.append(
        images: [UInt16](repeating: 0, count: 4), genes: [1], batches: [0],
        provenance: CellProvenance(tile: [1, 2]))
    }
    #expect(throws: OPSDataError.self) { try writer.writeArray("/obs/gene", [1] as [Int32]) }
    try writer.writeArray("/extra", [1] as [Int32])
    #expect(throws: OPSDataError.self) { try writer.writeArray("extra", [1] as [Int32]) }
    writer.cancel()
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).isEmpty)
  }

  @Test func unfinishedWritersLeaveNoFile() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    do {
      let writer = try CellStoreWriter(
        path: dir.path("w.h5"), channels: ["c"], height: 2, width: 2, pixelType: .uint16,
        genes: ["a"], batches: ["b"], control: "a")
      try writer.append(images: [UInt16](repeating: 1, count: 4), genes: [0], batches: [0])
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).isEmpty)
  }

  @Test func notACellStoreIsReportedClearly() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    func reason(_ path: String) -> String {
      do {
        _ = try CellStore(path: path)
        return "opened"
      } catch {
        return "\(error)"
      }
    }
    let plain = dir.path("plain.h5")
    let file = try HDF5File.create(plain)
    try file.root.write("embedding", [1, 2] as [Float], shape: [1, 2])
    try file.commit()
    #expect(
      reason(plain)
        == "\(plain): not a cell store: no 'format' attribute (expected 'grape-cells') (it looks like an embedding file)"
    )

    let wrongVersion = dir.path("v2.h5")
    _ = try makeSmallStore(at: wrongVersion, cells: 2)
    let editable = try HDF5File.open(wrongVersion, writable: true)
    try editable.root.attributes.set("version", 2)
    editable.close()
    #expect(
      reason(wrongVersion)
        == "\(wrongVersion): not a cell store: version 2 is not supported (this reader handles version 1)"
    )

    let other = dir.path("other.h5")
    let f2 = try HDF5File.create(other)
    try f2.root.attributes.set("format", "something-else")
    try f2.commit()
    #expect(
      reason(other)
        == "\(other): not a cell store: format is 'something-else', expected 'grape-cells'")

    let broken = dir.path("broken.h5")
    _ = try makeSmallStore(at: broken, cells: 2)
    let f3 = try HDF5File.open(broken, writable: true)
    try f3.root.remove("obs/batch")
    f3.close()
    #expect(reason(broken) == "\(broken): not a cell store: missing dataset /obs/batch")
    #expect(reason(dir.path("absent.h5")) == "\(dir.path("absent.h5")): file not found")
  }

  @Test(.enabled(if: Python.available(["h5py"]), "needs python3 with h5py (make test installs it)"))
  func h5pyReadsTheStoreAsDocumented() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("cells.h5")
    _ = try makeSmallStore(at: path, cells: 9)
    let output = try Python.run(
      """
      import sys, json, h5py
      with h5py.File(sys.argv[1], "r") as f:
          a = f.attrs
          print(json.dumps({
              "format": a["format"], "version": int(a["version"]), "channels": [str(c) for c in a["channels"]],
              "control": a["control"], "preprocessing": json.loads(a["preprocessing"]),
              "shape": list(f["images"].shape), "dtype": str(f["images"].dtype), "chunks": list(f["images"].chunks),
              "compression": f["images"].compression, "shuffle": f["images"].shuffle,
              "genes": list(f["genes"].asstr()[...]), "batches": list(f["batches"].asstr()[...]),
              "gene": f["obs/gene"][...].tolist(), "gene_dtype": str(f["obs/gene"].dtype),
              "plate": list(f["obs/plate"].asstr()[...]), "pixel": int(f["images"][4, 2, 3, 1]),
              "truth": f["truth/complex"][...].tolist(), "total": int(f["images"][...].astype("int64").sum())}))
      """, arguments: [path])
    let decoded = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
    #expect(decoded?["format"] as? String == "grape-cells")
    #expect(decoded?["version"] as? Int == 1)
    #expect(decoded?["channels"] as? [String] == ["DNA", "tubulin", "actin"])
    #expect(decoded?["control"] as? String == "g0")
    #expect((decoded?["preprocessing"] as? [String: String])?["normalize"] == "none")
    #expect(decoded?["shape"] as? [Int] == [9, 3, 4, 5])
    #expect(decoded?["dtype"] as? String == "uint16")
    #expect(decoded?["chunks"] as? [Int] == [1, 3, 4, 5])
    #expect(decoded?["compression"] as? String == "gzip")
    #expect(decoded?["shuffle"] as? Bool == true)
    #expect(decoded?["genes"] as? [String] == ["g0", "g1", "g2", "g3"])
    #expect(decoded?["batches"] as? [String] == ["b0", "b1"])
    #expect(decoded?["gene"] as? [Int] == (0..<9).map { $0 % 4 })
    #expect(decoded?["gene_dtype"] as? String == "int32")
    #expect(decoded?["plate"] as? [String] == (0..<9).map { "P\($0 % 2)" })
    #expect(decoded?["pixel"] as? Int == 400 + (2 * 4 + 3) * 5 + 1)
    #expect(decoded?["truth"] as? [Int] == [-1, 0, 0, 1])
    #expect(
      decoded?["total"] as? Int
        == (0..<9).reduce(0) { total, k in total + (0..<60).reduce(0) { $0 + k * 100 + $1 } })
  }

  @Test(arguments: [PixelType.uint16, .float32])
  func chunkCodecMatchesHDF5Filters(type: PixelType) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("codec.h5")
    let file = try HDF5File.create(path)
    let elements = 3 * 5 * 7
    let options = HDF5DatasetOptions(extendable: true, chunk: [1], deflateLevel: 1, shuffle: true)
    let values: [Float] = (0..<(4 * elements)).map { Float(($0 * 7919) % 3001) }
    let viaHDF5 = try file.root.createDataset(
      "a", type: type == .uint16 ? .uint16 : .float32, shape: [0, 3, 5, 7], options: options)
    let direct = try file.root.createDataset(
      "b", type: type == .uint16 ? .uint16 : .float32, shape: [4, 3, 5, 7], options: options)
    let codec = CellChunkCodec(elementSize: type.byteSize, elements: elements, level: 1)
    if type == .uint16 {
      let samples = values.map { UInt16($0) }
      try viaHDF5.append(samples)
      for cell in 0..<4 {
        let bytes = try Array(samples[(cell * elements)..<((cell + 1) * elements)]).withUnsafeBytes
        { try codec.encode($0) }
        try bytes.withUnsafeBytes { try direct.writeChunk(at: [cell, 0, 0, 0], bytes: $0) }
      }
    } else {
      try viaHDF5.append(values)
      for cell in 0..<4 {
        let bytes = try Array(values[(cell * elements)..<((cell + 1) * elements)]).withUnsafeBytes {
          try codec.encode($0)
        }
        try bytes.withUnsafeBytes { try direct.writeChunk(at: [cell, 0, 0, 0], bytes: $0) }
      }
    }
    try file.commit()
    let reader = try HDF5File.open(path)
    // Chunks written by hand decode through HDF5's pipeline ...
    #expect(try reader.dataset("b").read(as: Float.self) == values)
    // ... and chunks written by HDF5 decode through the codec.
    let a = try reader.dataset("a")
    for cell in 0..<4 {
      let (bytes, mask) = try a.readChunk(at: [cell, 0, 0, 0])
      #expect(mask == 0)
      var decoded = [UInt8](repeating: 0, count: codec.rawBytes)
      #expect(decoded.withUnsafeMutableBytes { codec.decode(bytes, filterMask: mask, into: $0) })
      let floats: [Float] =
        type == .uint16
        ? decoded.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)).map(Float.init) }
        : decoded.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
      #expect(floats == Array(values[(cell * elements)..<((cell + 1) * elements)]))
    }
    var garbage = [UInt8](repeating: 0, count: codec.rawBytes)
    #expect(!garbage.withUnsafeMutableBytes { codec.decode([1, 2, 3], filterMask: 0, into: $0) })
  }

  @Test func damagedStoresFailWithErrors() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("cells.h5")
    _ = try makeSmallStore(at: path, cells: 23)
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    for fraction in [0.9, 0.5, 0.1] {
      let cut = dir.path("cut-\(fraction).h5")
      try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: cut))
      do {
        let store = try CellStore(path: cut)
        _ = try store.images(at: Array(0..<store.count))
        Issue.record("a store cut to \(fraction) of its size was read without error")
      } catch let error as OPSDataError {
        #expect(error.description.hasPrefix(cut), "\(error)")
      }
    }
    // A chunk whose bytes are damaged in place.
    var damaged = data
    let imageBytes = try HDF5File.open(path).dataset("/images").readChunk(at: [5, 0, 0, 0]).bytes
    if let start = damaged.range(of: Data(imageBytes))?.lowerBound {
      for k in 0..<min(16, imageBytes.count) { damaged[start + k] ^= 0xFF }
      let broken = dir.path("broken.h5")
      try damaged.write(to: URL(fileURLWithPath: broken))
      let store = try CellStore(path: broken)
      #expect(try store.images(at: [4]).count == 60)
      do {
        _ = try store.images(at: [5])
        Issue.record("a damaged chunk was decoded")
      } catch let error as OPSDataError {
        #expect(error.description == "\(broken) /images: decode cell 5 failed (damaged chunk)")
      }
    } else {
      Issue.record("chunk bytes not found in the file")
    }
  }

  /// Stores written by h5py in several layouts (scripts/reference/opsdata_h5py_store_fixtures.py).
  @Test(arguments: [
    ("gzip.h5", true), ("shuffle_gzip.h5", true), ("shuffle_only.h5", true),
    ("raw_chunks.h5", true),
    ("two_per_chunk.h5", false), ("contiguous.h5", false), ("fletcher.h5", false),
  ])
  func readsStoresWrittenByH5py(name: String, decodedHere: Bool) throws {
    let store = try CellStore(path: Fixtures.path("stores/" + name))
    #expect(store.count == 6 && store.cellShape == [2, 3, 4])
    #expect(store.genes == ["a", "b", "nt"] && store.controlIndex == 2)
    #expect(store.batchOfCell == [0, 0, 0, 1, 1, 1])
    #expect((store.codec != nil) == decodedHere)
    let scale: Float = store.pixelType == .float32 ? 1.0 / 8 : 1
    let order = [5, 0, 3, 3, 1]
    var expected: [Float] = []
    for k in order {
      for c in 0..<2 {
        for y in 0..<3 {
          for x in 0..<4 { expected.append(Float(1000 * k + 100 * c + 10 * y + x) * scale) }
        }
      }
    }
    #expect(try store.images(at: order) == expected)
  }
}
