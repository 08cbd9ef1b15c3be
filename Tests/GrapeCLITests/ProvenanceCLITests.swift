import Foundation
import GrapeSupport
import OPSData
import Testing
import TestSupport

/// The files of `export`, `encode`, `features` and `transfer` say where they came from, and
/// `grape --version` names the toolkit version they record.
@Suite(.serialized) struct ProvenanceCLITests {
  @Test func versionFlagPrintsTheToolkitVersion() throws {
    let r = try GrapeCommand.run(["--version"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == toolkitVersion)
  }

  @Test func exportAndEncodeRecordTheRun() throws {
    let dir = makeTemporaryFolder("cli-provenance")
    let store = try TrainExportCLITests.makeStore(dir)
    let run = "\(dir)/run"
    let t = try GrapeCommand.run(["train", "--data", store, "--run", run, "--preset", "tiny", "--steps", "2", "--seed", "3"])
    #expect(t.status == 0, "\(t.stderr)")
    let table = "\(dir)/complexes.tsv"
    try "complex_id\tcomplex_name\tgene\n42\tAB complex\tGENE_A\n42\tAB complex\tGENE_B\n9\tother\tGENE_Z\n"
      .write(toFile: table, atomically: true, encoding: .utf8)

    let e = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/e.h5ad", "--data", store, "--complexes", table])
    #expect(e.status == 0, "\(e.stderr)")
    let root = try HDF5File.open("\(dir)/e.h5ad").root
    #expect(try root.dataset("obs/_index").readStrings() == ["GENE_A", "GENE_B", "nontargeting"])
    #expect(try root.dataset("obs/is_control").readBooleans() == [false, false, true])
    #expect(try root.dataset("obs/n_cells").read(as: Int64.self) == [8, 8, 8])
    #expect(try root.dataset("obs/complex_id/categories").readStrings() == ["42"])
    #expect(try root.dataset("obs/complex_id/codes").read(as: Int32.self) == [0, 0, -1])
    #expect(try root.dataset("obs/complex_name/categories").readStrings() == ["AB complex"])
    let uns = try root.group("uns")
    #expect(try uns.dataset("source").readString() == "embedding")
    #expect(try uns.dataset("run").readString() == OutputProvenance.absolutePath(run))
    #expect(try uns.dataset("checkpoint_step").read(as: Int64.self) == [2])
    #expect(try uns.dataset("ema").readBooleans() == [true])
    #expect(try uns.dataset("toolkit_version").readString() == toolkitVersion)
    #expect(try uns.dataset("config").readString() == String(contentsOfFile: "\(run)/config.json", encoding: .utf8))
    #expect(try uns.dataset("created").readString().hasSuffix("Z"))

    // Without --data: no cell counts, the control found by its name, the trained weights named.
    let h = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/e.h5", "--no-ema", "--checkpoint", "2"])
    #expect(h.status == 0, "\(h.stderr)")
    let attributes = try HDF5File.open("\(dir)/e.h5").root.attributes
    #expect(try attributes.string("source") == "embedding")
    #expect(try attributes.string("run") == OutputProvenance.absolutePath(run))
    #expect(try attributes.int("checkpoint_step") == 2)
    #expect(try attributes.bool("ema") == false)
    #expect(try attributes.string("toolkit_version") == toolkitVersion)
    let a = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/bare.h5ad"])
    #expect(a.status == 0, "\(a.stderr)")
    let bare = try HDF5File.open("\(dir)/bare.h5ad").root
    #expect(try bare.group("obs").attributes.strings("column-order") == ["is_control"])
    #expect(try bare.dataset("obs/is_control").readBooleans() == [false, false, true])
    let named = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/named.h5ad", "--control", "GENE_B"])
    #expect(named.status == 0, "\(named.stderr)")
    #expect(try HDF5File.open("\(dir)/named.h5ad").dataset("obs/is_control").readBooleans() == [false, true, false])
    let unknown = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/x.h5ad", "--control", "NTC"])
    #expect(unknown.status != 0 && unknown.stderr.contains("--control NTC"), "\(unknown.stderr)")
    let missing = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/x.h5ad", "--complexes", "\(dir)/nope.tsv"])
    #expect(missing.status != 0 && missing.stderr.contains("nope.tsv"), "\(missing.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/x.h5ad"))

    let c = try GrapeCommand.run(["encode", "--run", run, "--data", store, "--out", "\(dir)/codes.h5ad"])
    #expect(c.status == 0, "\(c.stderr)")
    let cells = try HDF5File.open("\(dir)/codes.h5ad").root
    #expect(try cells.dataset("X").shape == [24, 16])
    #expect(try cells.dataset("obsm/X_grape").shape == [24, 16])
    #expect(try cells.dataset("obs/gene/categories").readStrings() == ["GENE_A", "GENE_B", "nontargeting"])
    #expect(try cells.dataset("obs/batch/codes").read(as: Int32.self) == (0..<24).map { Int32($0 % 2) })
    #expect(try cells.dataset("uns/data").readString() == OutputProvenance.absolutePath(store))
    let codes = try GrapeCommand.run(["encode", "--run", run, "--data", store, "--out", "\(dir)/codes.h5"])
    #expect(codes.status == 0, "\(codes.stderr)")
    let codeAttributes = try HDF5File.open("\(dir)/codes.h5").root.attributes
    #expect(try codeAttributes.int("checkpoint_step") == 2 && codeAttributes.bool("ema"))
    #expect(try codeAttributes.string("toolkit_version") == toolkitVersion)

    // A checkpoint folder named by hand: the step comes from its state.json.
    try FileManager.default.copyItem(atPath: "\(run)/checkpoints/step-00000002", toPath: "\(run)/checkpoints/final")
    try "final\n".write(toFile: "\(run)/checkpoints/latest", atomically: true, encoding: .utf8)
    let byHand = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/hand.h5"])
    #expect(byHand.status == 0, "\(byHand.stderr)")
    #expect(try HDF5File.open("\(dir)/hand.h5").root.attributes.int("checkpoint_step") == 2)
  }

  /// A simulated store brings its complexes (`/truth`) and its plates and wells.
  @Test func simulatedStoreGivesComplexesPlatesAndWells() throws {
    let dir = makeTemporaryFolder("cli-provenance-sim")
    let store = "\(dir)/sim.h5"
    let s = try GrapeCommand.run(["simulate", "--out", store, "--size", "16", "--cells-per-gene", "2", "--batches", "2", "--seed", "2"])
    #expect(s.status == 0, "\(s.stderr)")
    let f = try GrapeCommand.run(["features", "--data", store, "--out", "\(dir)/f.h5ad", "--components", "4"])
    #expect(f.status == 0, "\(f.stderr)")
    let features = try HDF5File.open("\(dir)/f.h5ad").root
    let genes = try features.dataset("obs/_index").readStrings()
    let names = try features.dataset("obs/complex_name/categories").readStrings()
    let codes = try features.dataset("obs/complex_name/codes").read(as: Int32.self)
    #expect(names.count == 14)
    let control = try #require(genes.firstIndex(of: "nontargeting"))
    #expect(codes[control] == -1 && codes.filter { $0 >= 0 }.count == genes.count - 1)
    #expect(try features.dataset("obs/is_control").readBooleans()[control])
    #expect(try features.dataset("uns/source").readString() == "features")
    #expect(try features.dataset("uns/normalization").readString() == "none")
    #expect(try features.dataset("uns/n_features").read(as: Int64.self).first ?? 0 > 4)
    let fh = try GrapeCommand.run(["features", "--data", store, "--out", "\(dir)/f.h5", "--components", "4", "--normalize", "controls"])
    #expect(fh.status == 0, "\(fh.stderr)")
    let featureAttributes = try HDF5File.open("\(dir)/f.h5").root.attributes
    #expect(try featureAttributes.string("normalization") == "controls")
    #expect(try featureAttributes.strings("feature_names").count == featureAttributes.int("n_features"))
    #expect(try featureAttributes.string("toolkit_version") == toolkitVersion)

    let run = "\(dir)/run"
    let t = try GrapeCommand.run(["train", "--data", store, "--run", run, "--preset", "tiny", "--steps", "1"])
    #expect(t.status == 0, "\(t.stderr)")
    let c = try GrapeCommand.run(["encode", "--run", run, "--data", store, "--out", "\(dir)/codes.h5"])
    #expect(c.status == 0, "\(c.stderr)")
    let source = try HDF5File.open(store)
    let out = try HDF5File.open("\(dir)/codes.h5")
    for field in ["plate", "well"] {
      let original = try source.dataset("obs/\(field)")
      let copied = try out.dataset("obs/\(field)")
      #expect(try copied.elementType == original.elementType)
      if try original.elementType == .string {
        #expect(try copied.readStrings() == original.readStrings())
      } else {
        #expect(try copied.read(as: Int32.self) == original.read(as: Int32.self))
      }
    }
    let e = try GrapeCommand.run(["export", "--run", run, "--out", "\(dir)/e.h5ad", "--data", store])
    #expect(e.status == 0, "\(e.stderr)")
    #expect(try HDF5File.open("\(dir)/e.h5ad").dataset("obs/complex_id/categories").readStrings().count == 14)
    let tr = try GrapeCommand.run(["transfer", "--run", run, "--data", store, "--gene", "nontargeting", "--out", "\(dir)/moved.h5", "--limit", "2"])
    #expect(tr.status == 0, "\(tr.stderr)")
    let moved = try HDF5File.open("\(dir)/moved.h5").root.attributes
    #expect(try moved.string("target_gene") == "nontargeting")
    #expect(try moved.int("checkpoint_step") == 1 && moved.bool("ema"))
    #expect(try moved.string("run") == OutputProvenance.absolutePath(run))
  }
}
