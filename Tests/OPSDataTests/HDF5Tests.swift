import Foundation
import TestSupport
import Testing

@testable import OPSData

@Suite struct HDF5Tests {
  @Test func numericRoundTripsInEveryType() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("types.h5")
    let file = try HDF5File.create(path)
    let root = try file.root
    try root.write("f32", [1.5, -2, 3.25, 4, 5, 6] as [Float], shape: [2, 3])
    try root.write("f64", [1e-300, 2.5, -7] as [Double])
    try root.write("i32", [Int32.min, 0, Int32.max])
    try root.write("i64", [Int64.min, 1, Int64.max])
    try root.write("u16", [0, 1, 65535] as [UInt16])
    try root.write("u8", [0, 128, 255] as [UInt8])
    try root.write("g/nested/deep", [7] as [Int32])
    #expect(!FileManager.default.fileExists(atPath: path), "the file appears only on commit")
    try file.commit()
    #expect(FileManager.default.fileExists(atPath: path))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["types.h5"])

    let reader = try HDF5File.open(path)
    #expect(try reader.dataset("f32").shape == [2, 3])
    #expect(try reader.dataset("f32").read(as: Float.self) == [1.5, -2, 3.25, 4, 5, 6])
    #expect(try reader.dataset("f64").read(as: Double.self) == [1e-300, 2.5, -7])
    #expect(try reader.dataset("i32").read(as: Int32.self) == [Int32.min, 0, Int32.max])
    #expect(try reader.dataset("i64").read(as: Int64.self) == [Int64.min, 1, Int64.max])
    #expect(try reader.dataset("u16").read(as: UInt16.self) == [0, 1, 65535])
    #expect(
      try reader.dataset("u16").read(as: Float.self) == [0, 1, 65535], "HDF5 converts on read")
    #expect(try reader.dataset("u8").read(as: UInt8.self) == [0, 128, 255])
    #expect(try reader.dataset("/g/nested/deep").read(as: Int32.self) == [7])
    #expect(try reader.dataset("u16").elementType == .uint16)
    #expect(try reader.dataset("f64").elementType == .float64)
    #expect(try reader.root.members() == ["f32", "f64", "g", "i32", "i64", "u16", "u8"])
    #expect(try reader.group("g").members() == ["nested"])
    #expect(try reader.root.kind(of: "g") == .group)
    #expect(try reader.root.kind(of: "g/nested/deep") == .dataset)
    #expect(try reader.root.kind(of: "missing/deeper") == nil)
    #expect(reader.contains("/g/nested"))
    #expect(!reader.contains("/g/other"))
  }

  @Test func stringsAndAttributesRoundTrip() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("strings.h5")
    let file = try HDF5File.create(path)
    let root = try file.root
    let names = ["TP53", "", "Ünïcode ✓", "with,comma"]
    let dataset = try root.writeStrings("genes", names)
    try root.writeString("scalar", "hello")
    try root.writeStrings("empty", [])
    try root.attributes.set("format", "grape-cells")
    try root.attributes.set("version", 1)
    try root.attributes.set("scale", 0.25)
    try root.attributes.set("channels", ["DNA", "actin"])
    try root.attributes.set("order", [] as [Double])
    try root.attributes.set("sizes", [3, 4])
    try dataset.attributes.set("note", "on a dataset")
    try root.attributes.set("version", 2)  // replaces
    try file.commit()

    let reader = try HDF5File.open(path)
    #expect(try reader.dataset("genes").readStrings() == names)
    #expect(try reader.dataset("genes").elementType == .string)
    #expect(try reader.dataset("scalar").readString() == "hello")
    #expect(try reader.dataset("scalar").shape == [])
    #expect(try reader.dataset("empty").readStrings() == [])
    let attributes = try reader.root.attributes
    #expect(try attributes.names() == ["channels", "format", "order", "scale", "sizes", "version"])
    #expect(try attributes.string("format") == "grape-cells")
    #expect(try attributes.int("version") == 2)
    #expect(try attributes.double("scale") == 0.25)
    #expect(try attributes.strings("channels") == ["DNA", "actin"])
    #expect(try attributes.doubles("order") == [])
    #expect(try attributes.ints("sizes") == [3, 4])
    #expect(try reader.dataset("genes").attributes.string("note") == "on a dataset")
    #expect(!attributes.contains("absent"))
    #expect(throws: OPSDataError.self) { try attributes.string("absent") }
    #expect(throws: OPSDataError.self) { try attributes.int("format") }
  }

  @Test func extendableChunkedCompressedAppends() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("grow.h5")
    let file = try HDF5File.create(path)
    let root = try file.root
    let images = try root.createDataset(
      "images", type: .uint16, shape: [0, 2, 3],
      options: HDF5DatasetOptions(extendable: true, chunk: [1], deflateLevel: 4, shuffle: true))
    let labels = try root.createDataset("labels", type: .string, shape: [0], options: .extendable())
    var expected: [UInt16] = []
    for batch in 0..<5 {
      let rows = batch + 1
      let values = (0..<(rows * 6)).map { UInt16(expected.count + $0) }
      try images.append(values)
      expected += values
      try labels.appendStrings((0..<rows).map { "b\(batch)r\($0)" })
    }
    #expect(throws: OPSDataError.self) { try images.append([1, 2, 3] as [UInt16]) }
    try file.commit()

    let reader = try HDF5File.open(path)
    let stored = try reader.dataset("images")
    #expect(try stored.shape == [15, 2, 3])
    #expect(try stored.maxShape == [nil, 2, 3])
    #expect(try stored.chunkShape == [1, 2, 3])
    #expect(try stored.filters == ["shuffle", "deflate"])
    #expect(try stored.read(as: UInt16.self) == expected)
    #expect(try reader.dataset("labels").readStrings().count == 15)
    #expect(try reader.dataset("labels").readStrings()[14] == "b4r4")
  }

  @Test func rowReadsInAnyOrderWithRepeats() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("rows.h5")
    let file = try HDF5File.create(path)
    let rows = 40
    let values = (0..<(rows * 3)).map { Float($0) }
    try file.root.write("m", values, shape: [rows, 3], options: .extendable(chunkRows: 4))
    try file.commit()
    let dataset = try HDF5File.open(path).dataset("m")
    func expected(_ indices: [Int]) -> [Float] {
      indices.flatMap { Array(values[($0 * 3)..<($0 * 3 + 3)]) }
    }
    for indices in [
      [0, 1, 2], [39, 0, 17, 18, 19, 3], [5, 5, 2, 5], [], [7], Array((0..<40).reversed()),
    ] {
      #expect(try dataset.readRows(indices, as: Float.self) == expected(indices))
      #expect(try dataset.readRows(indices, as: Double.self) == expected(indices).map(Double.init))
    }
    // More runs than fit into one union selection.
    let scattered = (0..<1200).map { ($0 * 7919) % rows }
    #expect(try dataset.readRows(scattered, as: Float.self) == expected(scattered))
    #expect(try dataset.readRows(3..<6, as: Float.self) == expected([3, 4, 5]))
    var buffer = [Float](repeating: -1, count: 6)
    try buffer.withUnsafeMutableBufferPointer { try dataset.readRows([9, 1], into: $0) }
    #expect(buffer == expected([9, 1]))
    #expect(throws: OPSDataError.self) { try dataset.readRows([40], as: Float.self) }
    #expect(throws: OPSDataError.self) { try dataset.readRows([-1], as: Float.self) }
  }

  @Test func errorsNameTheFileAndObject() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    #expect(throws: OPSDataError.fileNotFound(path: dir.path("none.h5"))) {
      try HDF5File.open(dir.path("none.h5"))
    }
    let text = dir.path("text.h5")
    try "not hdf5".write(toFile: text, atomically: true, encoding: .utf8)
    do {
      _ = try HDF5File.open(text)
      Issue.record("expected an error")
    } catch let error as OPSDataError {
      #expect(error.description.contains(text))
      #expect(error.description.contains("not an HDF5 file"))
    }
    let path = dir.path("e.h5")
    let file = try HDF5File.create(path)
    try file.root.write("x", [1, 2] as [Int32])
    try file.commit()
    let reader = try HDF5File.open(path)
    do {
      _ = try reader.dataset("/obs/gene")
      Issue.record("expected an error")
    } catch let error as OPSDataError {
      #expect(error.description == "\(path) /obs/gene: open dataset failed (no such dataset)")
    }
    do {
      try reader.root.attributes.set("a", "b")
      Issue.record("expected an error")
    } catch let error as OPSDataError {
      #expect(error.description.contains("read-only"))
    }
    #expect(throws: OPSDataError.self) { try reader.dataset("x").readStrings() }
    #expect(throws: OPSDataError.self) {
      try reader.root.write("y", [1, 2, 3] as [Float], shape: [2])
    }
  }

  @Test func uncommittedFilesLeaveNothingBehind() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    do {
      let file = try HDF5File.create(dir.path("a.h5"))
      try file.root.write("x", [1] as [Float])
    }
    let explicit = try HDF5File.create(dir.path("b.h5"))
    try explicit.root.write("x", [1] as [Float])
    explicit.close()
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).isEmpty)
    #expect(throws: OPSDataError.self) { try explicit.root }
    #expect(throws: OPSDataError.self) { try HDF5File.create(dir.path("missing-folder/c.h5")) }
  }

  @Test func closedObjectsFailCleanly() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let file = try HDF5File.create(dir.path("c.h5"))
    let dataset = try file.root.write("x", [1, 2] as [Float])
    try file.commit()
    #expect(throws: OPSDataError.self) { try dataset.read(as: Float.self) }
    #expect(throws: OPSDataError.self) { try file.commit() }
  }

  @Test func concurrentReadersGetTheirOwnRows() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("shared.h5")
    let file = try HDF5File.create(path)
    let rows = 500
    try file.root.write(
      "m", (0..<(rows * 8)).map { Int32($0) }, shape: [rows, 8],
      options: .extendable(chunkRows: 16, deflateLevel: 1))
    try file.commit()
    let dataset = try HDF5File.open(path).dataset("m")
    let mismatches = Locked(0)
    DispatchQueue.concurrentPerform(iterations: 4) { worker in
      for step in 0..<50 {
        let indices = (0..<20).map { ($0 * 37 + step * 11 + worker * 101) % rows }
        guard let values = try? dataset.readRows(indices, as: Int32.self) else {
          mismatches.withLock { $0 += 1 }
          continue
        }
        let expected = indices.flatMap { row in (0..<8).map { Int32(row * 8 + $0) } }
        if values != expected { mismatches.withLock { $0 += 1 } }
      }
    }
    #expect(mismatches.withLock { $0 } == 0)
  }
}
