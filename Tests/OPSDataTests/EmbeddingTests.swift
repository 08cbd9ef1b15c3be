import Foundation
import TestSupport
import Testing

@testable import OPSData

private func sampleEmbedding() throws -> GeneEmbedding {
  try GeneEmbedding(
    genes: ["TP53", "BRCA1", "nontargeting", "Ünï"],
    values: (0..<12).map { Float($0) * 0.1 - 0.35 + 1e-7 },
    dimension: 3, source: "embedding")
}

@Suite struct EmbeddingTests {
  @Test(arguments: ["e.h5", "e.hdf5", "e.tsv", "e.h5ad"])
  func roundTripsExactly(name: String) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let embedding = try sampleEmbedding()
    let path = dir.path(name)
    try embedding.write(to: path)
    let back = try GeneEmbedding.read(from: path)
    #expect(back.genes == embedding.genes)
    #expect(back.values == embedding.values, "values must survive bit for bit")
    #expect(back.dimension == 3)
    #expect(back.source == (name.hasSuffix(".tsv") ? "" : "embedding"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == [name])
  }

  @Test func tsvLayoutIsTheContract() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("e.tsv")
    try GeneEmbedding(genes: ["A", "B"], values: [1, 0.5, -2, 3], dimension: 2).write(to: path)
    #expect(
      try String(contentsOfFile: path, encoding: .utf8)
        == "gene\tdim_0\tdim_1\nA\t1.0\t0.5\nB\t-2.0\t3.0\n")
    try "gene\tx\ty\r\nA\t1\t2\r\nB\t3\t4e-1\r\n\r\n".write(
      toFile: path, atomically: true, encoding: .utf8)
    let read = try GeneEmbedding.read(from: path)
    #expect(read.values == [1, 2, 3, 0.4] && read.genes == ["A", "B"])
    // A pycytominer-style profile: the gene column by its metadata name, other metadata skipped.
    try "Metadata_Plate\tMetadata_gene\tCells_Area\tNuclei_Area\nP1\tA\t1\t2\nP1\tB\t3\t4\n".write(
      toFile: path, atomically: true, encoding: .utf8)
    let profile = try GeneEmbedding.read(from: path)
    #expect(profile.genes == ["A", "B"] && profile.values == [1, 2, 3, 4] && profile.dimension == 2)
    // The same with the gene column first, as a TSV export of such a profile has it.
    try "Metadata_gene\tMetadata_Plate\tCells_Area\nA\tP1\t1\nB\tP1\t3\n".write(
      toFile: path, atomically: true, encoding: .utf8)
    #expect(try GeneEmbedding.read(from: path).values == [1, 3])
    // Several rows of one gene are averaged.
    try "gene\td0\nA\t1\nA\t2\n".write(toFile: path, atomically: true, encoding: .utf8)
    #expect(try GeneEmbedding.read(from: path).values == [1.5])
    for (text, message) in [
      ("gene\td0\nA\t1\nB\n", "row 3: 1 fields, but the header has 2 columns"),
      ("gene\td0\nA\t1\nB\tx\n", "row 3: column 'd0': 'x' is not a finite number"),
      ("gene\td0\nA\t1\nB\tnan\n", "row 3: column 'd0': 'nan' is not a finite number"),
      ("name\td0\nA\t1\n", "row 1: no gene column among 'name', 'd0'; name it 'gene'"),
      ("Metadata_gene\tMetadata_plate\nA\tP1\n", "row 1: no numeric feature columns beside the gene column 'Metadata_gene'"),
    ] {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      do {
        _ = try GeneEmbedding.read(from: path)
        Issue.record("expected an error for \(text)")
      } catch let error as OPSDataError {
        #expect(error.description.hasPrefix(path), "\(error)")
        #expect(error.description.contains(message), "\(error)")
      }
    }
  }

  @Test func readsAnnDataWrittenByPython() throws {
    for name in ["tiny.h5ad", "tiny_f64.h5ad"] {
      let embedding = try GeneEmbedding.read(from: Fixtures.path("embedding/" + name))
      #expect(embedding.genes == ["TP53", "BRCA1", "nontargeting"])
      #expect(embedding.dimension == 4)
      #expect(embedding.values == (0..<12).map { 0.5 * Float($0) - 1 })
      #expect(embedding.source == (name == "tiny.h5ad" ? "python" : ""))
    }
  }

  @Test(.enabled(if: Python.available(["anndata", "h5py"]), "needs python3 with anndata and h5py (make test installs them)"))
  func pythonAnndataOpensOurFile() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("ours.h5ad")
    let embedding = try sampleEmbedding()
    try embedding.write(to: path)
    let output = try Python.run(
      """
      import sys, json, anndata
      a = anndata.read_h5ad(sys.argv[1])
      print(json.dumps({"obs": list(a.obs_names), "var": list(a.var_names), "dtype": str(a.X.dtype),
                        "shape": list(a.X.shape), "x": [float(v) for v in a.X.ravel()],
                        "source": a.uns.get("source")}))
      """, arguments: [path])
    let decoded = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
    #expect(decoded?["obs"] as? [String] == embedding.genes)
    #expect(decoded?["var"] as? [String] == ["dim_0", "dim_1", "dim_2"])
    #expect(decoded?["dtype"] as? String == "float32")
    #expect(decoded?["shape"] as? [Int] == [4, 3])
    #expect((decoded?["x"] as? [Double])?.map { Float($0) } == embedding.values)
    #expect(decoded?["source"] as? String == "embedding")
  }

  @Test func malformedFilesAreReported() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    #expect(throws: OPSDataError.fileNotFound(path: dir.path("none.h5"))) {
      try GeneEmbedding.read(from: dir.path("none.h5"))
    }
    #expect(throws: OPSDataError.self) { try GeneEmbedding.read(from: dir.path("x.csv")) }
    let store = dir.path("store.h5")
    _ = try makeSmallStore(at: store, cells: 2)
    do {
      _ = try GeneEmbedding.read(from: store)
      Issue.record("expected an error")
    } catch let error as OPSDataError {
      #expect(error.description == "\(store): no /embedding dataset (this looks like a cell store)")
    }
    let mismatched = dir.path("m.h5")
    let file = try HDF5File.create(mismatched)
    try file.root.write("embedding", [Float](repeating: 0, count: 6), shape: [3, 2])
    try file.root.writeStrings("genes", ["a", "b"])
    try file.commit()
    do {
      _ = try GeneEmbedding.read(from: mismatched)
      Issue.record("expected an error")
    } catch let error as OPSDataError {
      #expect(error.description == "\(mismatched): /genes has 2 names for 3 rows of /embedding")
    }
    #expect(throws: OPSDataError.self) {
      try GeneEmbedding(genes: ["a"], values: [1, 2, 3], dimension: 2)
    }
  }

  @Test func cellCodesRoundTripAndAverage() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let codes = try CellCodes(
      values: [1, 2, 3, 4, 5, 6, 7, 8], dimension: 2, geneOfCell: [0, 2, 0, 2],
      batchOfCell: [0, 0, 1, 1],
      genes: ["a", "b", "c"], batches: ["p1", "p2"])
    let path = dir.path("codes.h5")
    try codes.write(to: path)
    let back = try CellCodes.read(from: path)
    #expect(back == codes)
    let means = try back.perGeneMeans()
    #expect(means.genes == ["a", "c"])
    #expect(means.values == [3, 4, 5, 6])
    #expect(means.source == "style-mean")

    // A differently named float dataset is found when it is the only candidate.
    let other = dir.path("other.h5")
    let file = try HDF5File.create(other)
    try file.root.write("features", [Double](repeating: 0.5, count: 4), shape: [2, 2])
    try file.root.write("obs/gene", [0, 0] as [Int32])
    try file.root.write("obs/batch", [0, 0] as [Int32])
    try file.root.writeStrings("genes", ["x"])
    try file.root.writeStrings("batches", ["b"])
    try file.commit()
    #expect(try CellCodes.read(from: other).name == "features")
    #expect(try CellCodes.read(from: other, dataset: "/features").values == [0.5, 0.5, 0.5, 0.5])
    #expect(throws: OPSDataError.self) { try CellCodes.read(from: other, dataset: "styles") }
    #expect(throws: OPSDataError.self) {
      try CellCodes.read(from: Fixtures.path("embedding/tiny.h5ad"))
    }
  }

  @Test func inspectorRecognisesEachKind() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try GeneEmbedding(genes: ["A", "B", "C"], values: [1, 0, 0, 2, 3, 4], dimension: 2).write(
      to: dir.path("e.tsv"))
    #expect(try FileInspector.kind(of: dir.path("e.tsv")) == .embedding)
    let text = try FileInspector.describe(dir.path("e.tsv"))
    #expect(text.contains("format      tsv"))
    #expect(text.contains("genes       3"))
    #expect(text.contains("row norms   min 1.0000, median 2.0000, max 5.0000"))
    let codes = try CellCodes(
      values: [1, 2, 3, 4], dimension: 2, geneOfCell: [0, 1], batchOfCell: [0, 0],
      genes: ["x", "y"], batches: ["p"])
    try codes.write(to: dir.path("codes.h5"))
    #expect(try FileInspector.kind(of: dir.path("codes.h5")) == .cellCodes)
    #expect(try FileInspector.describe(dir.path("codes.h5")).contains("dataset     /styles [2, 2]"))
    _ = try makeSmallStore(at: dir.path("store.h5"), cells: 4)
    #expect(try FileInspector.kind(of: dir.path("store.h5")) == .cellStore)
    let summary = try CellStoreSummary(store: CellStore(path: dir.path("store.h5")), sampleSize: 2)
    #expect(summary.sampledCells == [0, 2])
    // Cells 0 and 2, channel 0: samples k*100 + 0..<20.
    let channel0 = (0..<20).map { Double($0) } + (0..<20).map { Double(200 + $0) }
    #expect(summary.statistics[0].min == 0 && summary.statistics[0].max == 219)
    #expect(abs(summary.statistics[0].mean - channel0.reduce(0, +) / 40) < 1e-9)
    #expect(summary.genes.map(\.cells) == [1, 1, 1, 1])
    #expect(summary.extras == ["truth"])
    #expect(throws: OPSDataError.self) { try FileInspector.kind(of: dir.url.path) }
  }
}

/// Per-batch standardisation of profiles by the control cells.
@Suite struct ProfileNormalizationTests {
  @Test func standardisesEachBatchByItsControls() {
    // Two batches of three cells (2 columns); batch 1 has no control and uses all its cells.
    var v: [Float] = [1, 10, 3, 30, 5, 70, 2, 4, 4, 8, 9, 0]
    let batch = [0, 0, 0, 1, 1, 1]
    let control = [true, true, false, false, false, false]
    let fallback = ProfileNormalization.standardizePerBatch(&v, dimension: 2, batchOfCell: batch, isControl: control, epsilon: 0)
    #expect(fallback == 1)
    // Batch 0: controls (1, 10) and (3, 30): means (2, 20), population std (1, 10).
    let expected0: [Float] = [-1, -1, 1, 1, 3, 5]
    for i in 0..<6 { #expect(abs(v[i] - expected0[i]) < 1e-6, "batch 0 value \(i)") }
    // Batch 1: all cells, column 0 = (2, 4, 9): mean 5, std √(26/3).
    let std = (26.0 / 3.0).squareRoot()
    let column0 = [2.0, 4, 9].map { Float(($0 - 5) / std) }
    for (k, cell) in [3, 4, 5].enumerated() { #expect(abs(v[cell * 2] - column0[k]) < 1e-6) }
    let column1 = [v[7], v[9], v[11]]
    #expect(abs(column1.reduce(0, +)) < 1e-5)
    #expect(abs(column1.map { $0 * $0 }.reduce(0, +) / 3 - 1) < 1e-5)
  }
}
