import Foundation
import TestSupport
import Testing

@testable import OPSData

/// Embedding inputs as pandas, anndata and pycytominer write them
/// (`scripts/reference/opsdata_user_inputs.py` wrote the fixtures; every value is a multiple of 1/4,
/// so the expected values below are exact).
@Suite struct UserInputTests {
  static let features = ["Cells_AreaShape_Area", "Nuclei_Intensity_Mean", "Cytoplasm_Texture"]
  /// Per-gene means of the table fixtures: gene g (A, B, C), feature f: g + 0.25 f + 0.25.
  static let means: [Float] = (0..<3).flatMap { g in (0..<3).map { f in Float(g) + 0.25 * Float(f) + 0.25 } }

  static func read(_ name: String, _ options: EmbeddingReadOptions = EmbeddingReadOptions()) throws
    -> (embedding: GeneEmbedding, report: EmbeddingReadReport)
  {
    try GeneEmbedding.readReporting(from: Fixtures.path("inputs/" + name), options: options)
  }

  @Test func pycytominerProfilesAreAveragedPerGene() throws {
    let (embedding, report) = try Self.read("profiles.csv")
    #expect(embedding.genes == ["A", "B", "C"])
    #expect(embedding.values == Self.means)
    #expect(report.featureColumns == Self.features)
    #expect(report.ignoredColumns == ["Metadata_Plate", "Metadata_Well", "Metadata_Note", "compartment"])
    #expect(report.geneSource == "column 'Metadata_gene'")
    #expect(report.rows == 6 && report.isAggregated)
    #expect(report.lines == [
      "genes from column 'Metadata_gene', 3 feature columns, 4 ignored (Metadata_Plate, Metadata_Well, Metadata_Note, compartment)",
      "aggregated 6 rows to 3 genes by mean",
    ])
    // The explicit column gives the same; its case need not match.
    let named = try Self.read("profiles.csv", EmbeddingReadOptions(geneColumn: "metadata_GENE"))
    #expect(named.embedding == embedding)
  }

  @Test func tablesWithMetadataFirstAndPandasIndex() throws {
    let tsv = try Self.read("profiles.tsv")
    #expect(tsv.embedding.genes == ["A", "B", "C"] && tsv.embedding.values == Self.means)
    #expect(!tsv.report.isAggregated && tsv.report.lines.count == 1)
    let indexed = try Self.read("pandas_index.csv")
    #expect(indexed.embedding.genes == ["A", "B", "C"] && indexed.embedding.values == Self.means)
    #expect(indexed.report.ignoredColumns == ["Unnamed: 0"])
    #expect(indexed.report.geneSource == "column 'gene_symbol'")
  }

  @Test func annDataWithGenesInAPlainColumn() throws {
    let (embedding, report) = try Self.read("dense_cells.h5ad")
    #expect(embedding.genes == ["A", "B", "C"])
    #expect(embedding.values == Self.means)
    #expect(report.geneSource == "obs column 'gene'" && report.matrix == "X")
  }

  @Test(arguments: ["sparse_csr.h5ad", "sparse_csc.h5ad"])
  func sparseAnnData(name: String) throws {
    let (embedding, report) = try Self.read(name)
    #expect(embedding.genes == ["G0", "G1", "G2", "G3"])
    #expect(embedding.dimension == 5)
    #expect(embedding.values == [1, 0, 0, 2.5, 0, 0, 0, 0, 0, 0, 0, -0.75, 0, 0, 4, 0.25, 0, 3, 0, 0])
    #expect(report.matrix == (name.contains("csr") ? "X (csr_matrix)" : "X (csc_matrix)"))
    #expect(report.geneSource == "obs index")
  }

  @Test func perCellAnnDataWithACategoricalGeneColumn() throws {
    // Cell i carries gene C, A, B, C, …; X[i, f] = i + 0.25 f; genes in order of first appearance.
    let (embedding, report) = try Self.read("per_cell.h5ad")
    #expect(embedding.genes == ["C", "A", "B"])
    #expect(embedding.values == [3, 3.25, 3.5, 4, 4.25, 4.5, 5, 5.25, 5.5])
    #expect(report.geneSource == "obs column 'Metadata_gene' (categorical)")
    #expect(report.shape == "9 cells × 3, 3 genes")
    #expect(report.lines.last == "aggregated 9 cells to 3 genes by mean")
    let codes = try Self.read("per_cell.h5ad", EmbeddingReadOptions(obsm: "X_grape"))
    #expect(codes.embedding.genes == ["C", "A", "B"] && codes.embedding.values == [3, -3, 4, -4, 5, -5])
    #expect(codes.report.matrix == "obsm/X_grape")
    let plates = try Self.read("per_cell.h5ad", EmbeddingReadOptions(geneColumn: "Metadata_Plate"))
    #expect(plates.embedding.genes == ["P1", "P2"] && plates.embedding.values == [2, 2.25, 2.5, 6.5, 6.75, 7])
    // The index, asked for by name, is taken even though it holds cell numbers.
    let cells = try Self.read("per_cell.h5ad", EmbeddingReadOptions(geneColumn: "_index"))
    #expect(cells.embedding.count == 9 && !cells.report.isAggregated)
    let text = try FileInspector.describe(Fixtures.path("inputs/per_cell.h5ad"))
    #expect(text.hasPrefix("per-cell matrix \(Fixtures.path("inputs/per_cell.h5ad")): 9 cells × 3, 3 genes"), "\(text)")
    #expect(text.contains("aggregated 9 cells to 3 genes by mean"))
    #expect(text.contains("genes       3"))
    #expect(try FileInspector.kind(of: Fixtures.path("inputs/profiles.csv")) == .embedding)
    #expect(try FileInspector.describe(Fixtures.path("inputs/profiles.csv")).contains("6 rows × 3, 3 genes"))
  }

  /// Per-cell codes from AnnData files as `grape evaluate --cells` reads them: X or an obsm
  /// matrix, dense or sparse, genes and batches from obs columns (categories' order first).
  @Test func perCellAnnDataAsCellCodes() throws {
    let path = Fixtures.path("inputs/per_cell.h5ad")
    // Cell i: gene C, A, B, C, …; plate P1 for cells 0–4, P2 for 5–8; X[i, f] = i + 0.25 f.
    let (codes, names) = try CellCodes.readH5AD(from: path, batchColumn: "Metadata_Plate")
    #expect(codes.genes == ["A", "B", "C"] && codes.geneOfCell == [2, 0, 1, 2, 0, 1, 2, 0, 1])
    #expect(codes.batches == ["P1", "P2"] && codes.batchOfCell == [0, 0, 0, 0, 0, 1, 1, 1, 1])
    #expect(codes.dimension == 3 && codes.values[(4 * 3)..<(5 * 3)] == [4, 4.25, 4.5] && codes.name == "X")
    #expect(names == Self.features)
    let grape = try CellCodes.readH5AD(from: path, batchColumn: "Metadata_Plate", obsm: "X_grape")
    #expect(grape.codes.dimension == 2 && grape.codes.values.prefix(4) == [0, 0, 1, -1] && grape.codes.name == "X_grape")
    #expect(grape.columnNames == ["dim_0", "dim_1"])
    // Without a batch column: one batch, or an error naming the file and the columns it has.
    #expect(try CellCodes.readH5AD(from: path).codes.batches == ["all"])
    #expect {
      try CellCodes.readH5AD(from: path, batchRequired: true)
    } throws: { error in
      "\(error)" == "\(path): obs has no batch column (batch, Metadata_batch, Metadata_Batch; obs columns: 'Metadata_gene', 'Metadata_Plate'); name it with --batch-column"
    }
    #expect {
      try CellCodes.readH5AD(from: path, obsm: "X_pca")
    } throws: { error in "\(error)" == "\(path): no obsm/X_pca (obsm holds: 'X_grape')" }
    #expect {
      try CellCodes.readH5AD(from: path, geneColumn: "symbol")
    } throws: { error in "\(error)".hasPrefix("\(path): obs has no gene column 'symbol' (obs columns: 'Metadata_gene'") }
    // A sparse X, genes from the obs index named as such.
    for name in ["sparse_csr.h5ad", "sparse_csc.h5ad"] {
      let sparse = try CellCodes.readH5AD(from: Fixtures.path("inputs/" + name), geneColumn: "obs_names").codes
      #expect(sparse.genes == ["G0", "G1", "G2", "G3"] && sparse.values == [1, 0, 0, 2.5, 0, 0, 0, 0, 0, 0, 0, -0.75, 0, 0, 4, 0.25, 0, 3, 0, 0])
    }
    #expect(CellCodes.isAnnData(path) && !CellCodes.isAnnData(Fixtures.path("inputs/profiles.csv")))
  }

  @Test func delimiterIsSniffedFromTheHeader() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    // Tabs in a .csv, semicolons in a .txt, commas in a .tsv.
    for (name, text) in [
      ("a.csv", "gene\tx\nA\t1\n"), ("b.txt", "gene;x\nA;1\n"), ("c.tsv", "\"Metadata_gene\",\"x\"\n\"A\",\"1\"\n"),
    ] {
      try text.write(toFile: dir.path(name), atomically: true, encoding: .utf8)
      let embedding = try GeneEmbedding.read(from: dir.path(name))
      #expect(embedding.genes == ["A"] && embedding.values == [1], "\(name)")
    }
  }

  @Test func badTablesNameTheRowAndColumn() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("t.csv")
    for (text, options, message) in [
      ("name,d0\nA,1\n", EmbeddingReadOptions(), "row 1: no gene column among 'name', 'd0'"),
      ("gene,d0\nA,1\n", EmbeddingReadOptions(geneColumn: "Metadata_gene"), "row 1: no gene column 'Metadata_gene' among the columns 'gene', 'd0'"),
      ("Metadata_gene,f1,f2\nA,1,2\nB,NaN,3\n", EmbeddingReadOptions(), "row 3: column 'f1': 'NaN' is not a finite number"),
      ("Metadata_gene,f1,f2\nA,1,2\nB,2,\n", EmbeddingReadOptions(), "row 3: column 'f2': empty cell"),
      ("Metadata_gene,f1\nA,1\n\"B\n2\",x\nC,3\n", EmbeddingReadOptions(), "row 3: column 'f1': 'x' is not a finite number"),
      ("gene,f1\nA,1\nB,2,3\n", EmbeddingReadOptions(), "row 3: 3 fields, but the header has 2 columns"),
      ("gene,f1\nA,1\n,2\n", EmbeddingReadOptions(), "row 3: column 'gene': empty gene name"),
      ("gene,f1\nA,1e39\n", EmbeddingReadOptions(), "row 2: column 'f1': '1e39' is not a finite number"),
      ("gene,Metadata_plate,label\nA,P1,x\n", EmbeddingReadOptions(), "row 1: no numeric feature columns beside the gene column 'gene'"),
      ("gene,\"f1\nA,1\n", EmbeddingReadOptions(), "row 1: a quoted field is never closed"),
    ] {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      do {
        _ = try GeneEmbedding.read(from: path, options: options)
        Issue.record("expected an error for \(text)")
      } catch let error as OPSDataError {
        #expect(error.description.hasPrefix(path), "\(error)")
        #expect(error.description.contains(message), "\(error)")
        #expect(!error.description.contains("\n"), "one line: \(error)")
      }
    }
  }

  /// A minimal AnnData file written with this toolkit's HDF5 layer; `x` is dense unless `sparse`.
  private static func writeAnnData(
    _ path: String, index: [String], x: [Float] = [], rows: Int? = nil, dimension: Int = 2,
    sparse: (data: [Float], indices: [Int32], indptr: [Int32])? = nil, geneCodes: [Int32]? = nil
  ) throws {
    let file = try HDF5File.create(path)
    let root = try file.root
    if let sparse {
      let group = try root.createGroup("X")
      try group.attributes.set("encoding-type", "csr_matrix")
      try group.attributes.set("shape", [index.count, dimension])
      try group.write("data", sparse.data)
      try group.write("indices", sparse.indices)
      try group.write("indptr", sparse.indptr)
    } else {
      try root.write("X", x, shape: [rows ?? index.count, dimension])
    }
    let obs = try root.createGroup("obs")
    try obs.attributes.set("_index", "_index")
    try obs.writeStrings("_index", index)
    if let geneCodes {
      let gene = try obs.createGroup("gene")
      try gene.attributes.set("encoding-type", "categorical")
      try gene.writeStrings("categories", ["A", "B"])
      try gene.write("codes", geneCodes)
    }
    try file.commit()
  }

  @Test func badAnnDataFilesAreNamed() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("bad.h5ad")
    func expectError(_ message: String, _ options: EmbeddingReadOptions = EmbeddingReadOptions(), sourceLocation: SourceLocation = #_sourceLocation) {
      do {
        _ = try GeneEmbedding.read(from: path, options: options)
        Issue.record("expected an error: \(message)", sourceLocation: sourceLocation)
      } catch {
        #expect("\(error)".hasPrefix(path) && "\(error)".contains(message), "\(error)", sourceLocation: sourceLocation)
      }
    }
    try Self.writeAnnData(path, index: ["A", "B"], sparse: ([1, 2], [0, 1], [0, 2, 1]))
    expectError("X/indptr entry 2 (1) is smaller than entry 1 (2)")
    try Self.writeAnnData(path, index: ["A", "B"], sparse: ([1, 2], [0, 1], [0, 2]))
    expectError("X/indptr has 2 entries for 2 rows (expected 3)")
    try Self.writeAnnData(path, index: ["A", "B"], sparse: ([1, 2], [0, 5], [0, 1, 2]))
    expectError("X/indices entry 1 is 5, outside 0..<2 (columns)")
    try Self.writeAnnData(path, index: ["A", "B"], sparse: ([1, 2], [0, 1], [0, 1, 3]))
    expectError("X/indptr ends at 3, but X/data has 2 entries")
    try Self.writeAnnData(path, index: ["A", "B"], x: [1, 2, .nan, 4])
    expectError("X row 1 (obs name 'B', gene 'B'), column 0: nan is not a finite float32 value")
    try Self.writeAnnData(path, index: ["0", "1"], x: [1, 2, 3, 4])
    expectError("the obs index holds cell ids ('0', '1', …), not gene names")
    try Self.writeAnnData(path, index: ["0", "1"], x: [1, 2, 3, 4], geneCodes: [1, -1])
    expectError("obs column 'gene' row 1 (obs name '1'): missing value")
    try Self.writeAnnData(path, index: ["0", "1"], x: [1, 2, 3, 4], geneCodes: [1, 0])
    let read = try GeneEmbedding.read(from: path)
    #expect(read.genes == ["B", "A"] && read.values == [1, 2, 3, 4])
    expectError("obs has no column 'symbol' (columns: 'gene'", EmbeddingReadOptions(geneColumn: "symbol"))
    // The same file saved as .h5 is still read as AnnData.
    try FileManager.default.copyItem(atPath: path, toPath: dir.path("copy.h5"))
    #expect(try GeneEmbedding.read(from: dir.path("copy.h5")) == read)
    expectError("no obsm/X_pca (obsm holds: nothing)", EmbeddingReadOptions(obsm: "X_pca"))
    try Self.writeAnnData(path, index: ["A", "B", "C"], x: [1, 2, 3, 4], rows: 2)
    expectError("X has 2 rows but the obs index has 3 names")
  }

  @Test func categoricalColumnOfAnnDataBefore08() throws {
    // anndata 0.7 stored a categorical column as its codes, with the categories in obs/__categories.
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path("old.h5ad")
    let file = try HDF5File.create(path)
    try file.root.write("X", [1, 2, 3, 4, 5, 6] as [Float], shape: [3, 2])
    try file.root.attributes.set("encoding-type", "anndata")
    let obs = try file.root.createGroup("obs")
    try obs.attributes.set("_index", "index")
    try obs.writeStrings("index", ["c0", "c1", "c2"])
    try obs.write("Metadata_gene", [1, 0, 1] as [Int32])
    try obs.writeStrings("__categories/Metadata_gene", ["A", "B"])
    try file.commit()
    let (embedding, report) = try GeneEmbedding.readReporting(from: path)
    #expect(embedding.genes == ["B", "A"] && embedding.values == [3, 4, 3, 4])
    #expect(report.geneSource == "obs column 'Metadata_gene' (categorical)")
  }

  @Test(.enabled(if: Python.available(["anndata", "pandas", "scipy"]), "needs python3 with anndata, pandas and scipy (make test installs them)"))
  func meansMatchPandasGroupby() throws {
    // Random per-cell data written by anndata (sparse X) and pandas (CSV); the per-gene means must
    // match pandas' groupby mean in float64 (of the CSV as read_csv reads it), rounded once to float32.
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let output = try Python.run(
      """
      import sys, json, numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
      rng = np.random.default_rng(7)
      n, d = 200, 6
      x = rng.normal(size=(n, d)).astype(np.float32)
      x[rng.random((n, d)) < 0.5] = 0
      genes = [f"G{i}" for i in rng.integers(0, 17, size=n)]
      obs = pd.DataFrame({"gene": pd.Categorical(genes)}, index=[str(i) for i in range(n)])
      ad.AnnData(X=sp.csr_matrix(x), obs=obs).write_h5ad(sys.argv[1] + "/cells.h5ad")
      df = pd.DataFrame(x.astype(np.float64), columns=[f"f{j}" for j in range(d)])
      df.insert(0, "Metadata_gene", genes)
      df.to_csv(sys.argv[1] + "/cells.csv", index=False, float_format="%.9g")
      # The table's values are the decimals written, as pandas reads them back.
      means = pd.read_csv(sys.argv[1] + "/cells.csv").groupby("Metadata_gene", sort=False).mean()
      exact = df.assign(**{f"f{j}": x[:, j].astype(np.float64) for j in range(d)}).groupby("Metadata_gene", sort=False).mean()
      print(json.dumps({"genes": list(means.index),
                        "csv": [float(np.float32(v)) for v in means.to_numpy().ravel()],
                        "h5ad": [float(np.float32(v)) for v in exact.to_numpy().ravel()]}))
      """, arguments: [dir.url.path])
    let expected = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    let genes = try #require(expected["genes"] as? [String])
    for name in ["cells.h5ad", "cells.csv"] {
      let values = try #require(expected[name.hasSuffix("csv") ? "csv" : "h5ad"] as? [Double]).map { Float($0) }
      let embedding = try GeneEmbedding.read(from: dir.path(name))
      #expect(embedding.genes == genes, "\(name)")
      #expect(embedding.values == values, "\(name)")
    }
  }

  @Test func writesCSVThatReadsBack() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let embedding = try GeneEmbedding(genes: ["A,1", "say \"hi\"", "C"], values: [1, 0.5, -2, 3, 1e-7, 4], dimension: 2)
    try embedding.write(to: dir.path("e.csv"))
    #expect(
      try String(contentsOfFile: dir.path("e.csv"), encoding: .utf8)
        == "gene,dim_0,dim_1\n\"A,1\",1.0,0.5\n\"say \"\"hi\"\"\",-2.0,3.0\nC,1e-07,4.0\n")
    #expect(try GeneEmbedding.read(from: dir.path("e.csv")) == embedding)
    try embedding.write(to: dir.path("e.tsv"))
    #expect(try GeneEmbedding.read(from: dir.path("e.tsv")) == embedding)
  }
}
