import Foundation
import GrapeSupport
import TestSupport
import Testing

@testable import OPSData

/// Files that explain themselves: provenance attributes on HDF5 outputs, per-gene `obs` columns
/// and `uns` in gene h5ad files, per-cell codes as AnnData; read back through this toolkit's
/// HDF5 reader and, where installed, through anndata.
@Suite struct OutputMetadataTests {
  static func embedding() throws -> GeneEmbedding {
    try GeneEmbedding(
      genes: ["TP53", "BRCA1", "nontargeting", "PSMA5"], values: (0..<8).map { Float($0) / 4 }, dimension: 2,
      source: "embedding")
  }

  static func annotations() throws -> EmbeddingAnnotations {
    var provenance = OutputProvenance(created: Date(timeIntervalSince1970: 1_700_000_000))
    provenance.set("run", .string("/runs/r1"))
    provenance.set("checkpoint_step", .int(1200))
    provenance.set("ema", .bool(true))
    provenance.set("config", .string(#"{"style_dim": 64}"#))
    let complexes = try ComplexTable(complexes: [
      .init(id: "193", name: "PA700-20S-PA28 complex", genes: ["PSMA5", "PSMB1"]),
      .init(id: "7", name: "BRCA1-A complex", genes: ["BRCA1"]),
    ])
    return EmbeddingAnnotations(
      provenance: provenance, controlGene: "nontargeting", cellCounts: ["TP53": 12, "BRCA1": 7, "nontargeting": 40],
      complexes: complexes)
  }

  static func codes() throws -> (CellCodes, [CellField]) {
    let codes = try CellCodes(
      values: (0..<15).map { Float($0) }, dimension: 3, geneOfCell: [0, 1, 1, 2, 0], batchOfCell: [0, 0, 1, 1, 1],
      genes: ["GENE_A", "GENE_B", "nontargeting"], batches: ["b1", "b2"])
    let fields = [
      CellField(name: "plate", values: .strings(["P1", "P1", "P2", "P2", "P2"])),
      CellField(name: "well", values: .integers([3, 4, 3, 4, 5])),
    ]
    return (codes, fields)
  }

  @Test func provenanceStartsWithVersionAndTime() {
    let p = OutputProvenance(created: Date(timeIntervalSince1970: 0))
    #expect(p.entries.map(\.key) == ["toolkit_version", "created"])
    #expect(p["toolkit_version"] == .string(toolkitVersion))
    #expect(p["created"] == .string("1970-01-01T00:00:00Z"))
    #expect(p.setting("ema", .bool(false)).setting("ema", .bool(true))["ema"] == .bool(true))
    #expect(OutputProvenance.absolutePath("a/../b").hasSuffix("/b") && OutputProvenance.absolutePath("x").hasPrefix("/"))
  }

  @Test func booleansRoundTripAsH5pyStoresThem() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("b.h5")
    let file = try HDF5File.create(path)
    try file.root.writeBooleans("deep/flags", [true, false, true])
    try file.root.writeBoolean("one", false)
    try file.root.attributes.set("ema", true)
    try file.root.write("ints", [Int32(0), 2])
    try file.commit()
    let back = try HDF5File.open(path)
    #expect(try back.dataset("deep/flags").readBooleans() == [true, false, true])
    #expect(try back.dataset("one").readBooleans() == [false])
    #expect(try back.dataset("ints").readBooleans() == [false, true])
    #expect(try back.root.attributes.bool("ema"))
  }

  @Test func embeddingHDF5HasProvenanceAttributes() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("e.h5")
    try Self.embedding().write(to: path, annotations: Self.annotations())
    let attributes = try HDF5File.open(path).root.attributes
    #expect(try attributes.string("source") == "embedding")
    #expect(try attributes.string("toolkit_version") == toolkitVersion)
    #expect(try attributes.string("created") == "2023-11-14T22:13:20Z")
    #expect(try attributes.string("run") == "/runs/r1")
    #expect(try attributes.int("checkpoint_step") == 1200)
    #expect(try attributes.bool("ema"))
    #expect(try GeneEmbedding.read(from: path) == Self.embedding())
    // Without annotations the version and time are still recorded.
    try Self.embedding().write(to: dir.path("plain.h5"))
    #expect(try HDF5File.open(dir.path("plain.h5")).root.attributes.string("toolkit_version") == toolkitVersion)
  }

  @Test func geneH5ADHasObsColumnsAndUns() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("e.h5ad")
    try Self.embedding().write(to: path, annotations: Self.annotations())
    let root = try HDF5File.open(path).root
    let obs = try root.group("obs")
    #expect(try obs.attributes.strings("column-order") == ["is_control", "n_cells", "complex_id", "complex_name"])
    #expect(try obs.dataset("is_control").readBooleans() == [false, false, true, false])
    #expect(try obs.dataset("n_cells").read(as: Int64.self) == [12, 7, 40, 0])
    let complexID = try obs.group("complex_id")
    #expect(try complexID.attributes.string("encoding-type") == "categorical")
    #expect(try complexID.attributes.string("encoding-version") == "0.2.0")
    #expect(try complexID.attributes.bool("ordered") == false)
    #expect(try complexID.dataset("categories").readStrings() == ["193", "7"])
    #expect(try complexID.dataset("codes").read(as: Int32.self) == [-1, 1, -1, 0])
    #expect(try obs.dataset("complex_name/categories").readStrings() == ["BRCA1-A complex", "PA700-20S-PA28 complex"])
    #expect(try obs.dataset("complex_name/codes").read(as: Int32.self) == [-1, 0, -1, 1])
    let uns = try root.group("uns")
    #expect(try uns.dataset("source").readString() == "embedding")
    #expect(try uns.dataset("run").readString() == "/runs/r1")
    #expect(try uns.dataset("checkpoint_step").read(as: Int64.self) == [1200])
    #expect(try uns.dataset("ema").readBooleans() == [true])
    #expect(try uns.dataset("ema").attributes.string("encoding-type") == "numeric-scalar")
    #expect(try uns.dataset("toolkit_version").readString() == toolkitVersion)
    #expect(try uns.dataset("config").readString() == #"{"style_dim": 64}"#)
    #expect(try GeneEmbedding.read(from: path) == Self.embedding())
  }

  @Test func cellCodesHDF5CarriesFieldsAndProvenance() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("codes.h5")
    let (codes, fields) = try Self.codes()
    try codes.write(to: path, fields: fields, provenance: OutputProvenance().setting("checkpoint_step", .int(9)))
    let file = try HDF5File.open(path)
    #expect(try file.dataset("obs/plate").readStrings() == ["P1", "P1", "P2", "P2", "P2"])
    #expect(try file.dataset("obs/well").read(as: Int32.self) == [3, 4, 3, 4, 5])
    #expect(try file.root.attributes.int("checkpoint_step") == 9)
    #expect(try file.root.attributes.string("toolkit_version") == toolkitVersion)
    #expect(try CellCodes.read(from: path) == codes)
    let short = [CellField(name: "plate", values: .strings(["P1"]))]
    #expect(throws: OPSDataError.self) { try codes.write(to: dir.path("bad.h5"), fields: short, provenance: OutputProvenance()) }
    #expect(!FileManager.default.fileExists(atPath: dir.path("bad.h5")))
  }

  @Test func cellCodesH5ADIsAnnData() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("codes.h5ad")
    let (codes, fields) = try Self.codes()
    try codes.write(to: path, fields: fields, provenance: OutputProvenance(), controlGene: "nontargeting")
    let root = try HDF5File.open(path).root
    #expect(try root.dataset("X").shape == [5, 3])
    #expect(try root.dataset("X").read(as: Float.self) == codes.values)
    #expect(try root.dataset("obsm/X_grape").read(as: Float.self) == codes.values)
    let obs = try root.group("obs")
    #expect(try obs.dataset("_index").readStrings() == ["0", "1", "2", "3", "4"])
    #expect(try obs.attributes.strings("column-order") == ["gene", "batch", "is_control", "plate", "well"])
    #expect(try obs.dataset("gene/categories").readStrings() == codes.genes)
    #expect(try obs.dataset("gene/codes").read(as: Int32.self) == codes.geneOfCell)
    #expect(try obs.dataset("batch/codes").read(as: Int32.self) == codes.batchOfCell)
    #expect(try obs.dataset("is_control").readBooleans() == [false, false, false, true, false])
    #expect(try obs.dataset("well/categories").readStrings() == ["3", "4", "5"])
    #expect(try obs.dataset("well/codes").read(as: Int32.self) == [0, 1, 0, 1, 2])
    #expect(try obs.group("plate").attributes.string("encoding-type") == "categorical")
    #expect(try root.dataset("uns/source").readString() == "style-codes")
    #expect(try root.dataset("var/_index").readStrings() == ["dim_0", "dim_1", "dim_2"])
  }

  @Test(.enabled(if: Python.available(["anndata", "h5py"]), "needs python3 with anndata and h5py (make test installs them)"))
  func anndataReadsBothFiles() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try Self.embedding().write(to: dir.path("genes.h5ad"), annotations: Self.annotations())
    let (codes, fields) = try Self.codes()
    try codes.write(to: dir.path("cells.h5ad"), fields: fields, provenance: OutputProvenance(), controlGene: "nontargeting")
    let output = try Python.run(
      """
      import sys, json, anndata
      g = anndata.read_h5ad(sys.argv[1])
      c = anndata.read_h5ad(sys.argv[2])
      print(json.dumps({
        "gene_dtypes": {k: str(v) for k, v in g.obs.dtypes.items()},
        "is_control": [bool(v) for v in g.obs["is_control"]],
        "n_cells": [int(v) for v in g.obs["n_cells"]],
        "complex_name": [None if v != v else v for v in g.obs["complex_name"].astype(object)],
        "uns_ema": type(g.uns["ema"]).__name__ + ":" + str(bool(g.uns["ema"])),
        "uns_step": int(g.uns["checkpoint_step"]), "uns_version": g.uns["toolkit_version"],
        "cell_dtypes": {k: str(v) for k, v in c.obs.dtypes.items()},
        "cell_names": list(c.obs_names), "genes": [str(v) for v in c.obs["gene"]],
        "wells": [str(v) for v in c.obs["well"]], "x_grape": c.obsm["X_grape"].tolist(),
        "x": c.X.tolist(), "x_dtype": str(c.X.dtype)}))
      """, arguments: [dir.path("genes.h5ad"), dir.path("cells.h5ad")])
    let decoded = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    #expect(
      decoded["gene_dtypes"] as? [String: String]
        == ["is_control": "bool", "n_cells": "int64", "complex_id": "category", "complex_name": "category"])
    #expect(decoded["is_control"] as? [Bool] == [false, false, true, false])
    #expect(decoded["n_cells"] as? [Int] == [12, 7, 40, 0])
    let names = try #require(decoded["complex_name"] as? [Any])
    #expect(names.map { $0 as? String } == [nil, "BRCA1-A complex", nil, "PA700-20S-PA28 complex"])
    #expect(decoded["uns_ema"] as? String == "bool:True" || decoded["uns_ema"] as? String == "bool_:True")
    #expect(decoded["uns_step"] as? Int == 1200)
    #expect(decoded["uns_version"] as? String == toolkitVersion)
    #expect(
      decoded["cell_dtypes"] as? [String: String]
        == ["gene": "category", "batch": "category", "is_control": "bool", "plate": "category", "well": "category"])
    #expect(decoded["cell_names"] as? [String] == ["0", "1", "2", "3", "4"])
    #expect(decoded["genes"] as? [String] == ["GENE_A", "GENE_B", "GENE_B", "nontargeting", "GENE_A"])
    #expect(decoded["wells"] as? [String] == ["3", "4", "3", "4", "5"])
    #expect(decoded["x_dtype"] as? String == "float32")
    let rows = (0..<5).map { r in (0..<3).map { Double(r * 3 + $0) } }
    #expect(decoded["x"] as? [[Double]] == rows)
    #expect(decoded["x_grape"] as? [[Double]] == rows)
  }
}
