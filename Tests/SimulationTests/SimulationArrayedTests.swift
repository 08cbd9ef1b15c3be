import Foundation
import Testing

@testable import Simulation
import OPSData

/// The arrayed (RxRx1-like) layout: experiments of cell lines, one gene per well.
@Suite struct SimulationArrayedTests {
  /// A tiny arrayed screen: 3 complexes × 3 genes + control, 4 experiments over 2 lines.
  static func config(seed: UInt64 = 5, experiments: Int = 4, lines: Int = 2) -> SimulationConfig {
    var c = SimFixtures.smallConfig(size: 16, seed: seed)
    c.controls = 2
    c.platesPerBatch = 2
    c.arrayed = ArrayedScreenConfig(
      experiments: experiments, cellLines: lines, wellsPerGene: 3, cellsPerWell: 4)
    return c
  }

  @Test func sameSeedGivesTheSameBytesWhateverTheChunking() throws {
    let table = try SimFixtures.smallTable()
    let a = try SimFixtures.collect(ScreenSimulator(config: Self.config(), complexes: table))
    let b = try SimFixtures.collect(
      ScreenSimulator(config: Self.config(), complexes: table), chunkSize: 7, threads: 1)
    #expect(a.pixels == b.pixels)
    #expect(a.chunks.flatMap(\.traits) == b.chunks.flatMap(\.traits))
    #expect(a.chunks.compactMap(\.cellLine).flatMap { $0 } == b.chunks.compactMap(\.cellLine).flatMap { $0 })
    let c = try SimFixtures.collect(
      ScreenSimulator(config: Self.config(seed: 6), complexes: table))
    #expect(zip(a.pixels, c.pixels).filter { $0 != $1 }.count > a.pixels.count / 2)
    let ta = try ScreenSimulator(config: Self.config(), complexes: table).truth
    let tc = try ScreenSimulator(config: Self.config(seed: 6), complexes: table).truth
    #expect(ta.arrayed?.cellLineTraits != tc.arrayed?.cellLineTraits)
  }

  @Test func layoutCountsAndSingleGeneWells() throws {
    let table = try SimFixtures.smallTable()
    let sim = try ScreenSimulator(config: Self.config(), complexes: table)
    let s = try SimFixtures.collect(sim)
    let genes = 10  // 9 table genes + the control
    let wellsPerExperiment = 9 * 3 + 2 * 3
    #expect(s.count == 4 * wellsPerExperiment * 4)
    #expect(sim.truth.batchNames == ["HEPG2-01", "HEPG2-02", "HUVEC-01", "HUVEC-02"])
    #expect(sim.truth.plateNames.count == 8 && sim.truth.plateNames[0] == "HEPG2-01-P1")
    let arrayed = try #require(sim.truth.arrayed)
    #expect(arrayed.cellLineNames == ["HEPG2", "HUVEC"])
    #expect(arrayed.batchCellLine == [0, 0, 1, 1])
    #expect(arrayed.wellCount == 4 * wellsPerExperiment)
    // Every gene has wellsPerGene wells (the control controls × as many) in every experiment.
    for e in 0..<4 {
      for g in 0..<genes {
        let n = zip(arrayed.wellGene, arrayed.wellBatch).filter {
          $0.0 == Int32(g) && $0.1 == Int32(e)
        }.count
        #expect(n == (g == sim.controlIndex ? 6 : 3))
      }
    }
    // Every (plate, well) holds exactly one gene and cellsPerWell cells; the cell line follows
    // the experiment; wells sit in their experiment's plates.
    let plate = s.chunks.flatMap(\.plate)
    let well = s.chunks.flatMap(\.well)
    let line = s.chunks.compactMap(\.cellLine).flatMap { $0 }
    #expect(line.count == s.count)
    var genesOfWell: [String: Set<Int32>] = [:]
    var cellsOfWell: [String: Int] = [:]
    for i in 0..<s.count {
      let key = "\(plate[i])/\(well[i])"
      genesOfWell[key, default: []].insert(s.gene[i])
      cellsOfWell[key, default: 0] += 1
      #expect(line[i] == arrayed.batchCellLine[Int(s.batch[i])])
      #expect(sim.truth.plateBatch[Int(plate[i])] == s.batch[i])
    }
    #expect(genesOfWell.count == arrayed.wellCount)
    #expect(genesOfWell.values.allSatisfy { $0.count == 1 })
    #expect(cellsOfWell.values.allSatisfy { $0 == 4 })
    for w in 0..<arrayed.wellCount {
      let key = "\(arrayed.wellPlate[w])/\(arrayed.wellPosition[w])"
      #expect(genesOfWell[key] == [arrayed.wellGene[w]])
    }
    #expect(sim.truth.geneBatchCounts.count == genes * 4)
    #expect(sim.truth.geneBatchCounts[sim.controlIndex * 4] == 24)
  }

  @Test func truthDatasetsHaveTheirShapes() throws {
    let sim = try ScreenSimulator(config: Self.config(), complexes: SimFixtures.smallTable())
    let shapes = Dictionary(
      uniqueKeysWithValues: sim.truth.datasets.map { ($0.path, $0.values.shape) })
    let p = PhenotypeParameter.count
    let w = 4 * 33
    #expect(shapes["/batches"] == [4])
    #expect(shapes["/truth/cell_line_names"] == [2])
    #expect(shapes["/truth/batch_cell_line"] == [4])
    #expect(shapes["/truth/cell_line_traits"] == [2, p])
    #expect(shapes["/truth/cell_line_gain"] == [2, 4])
    #expect(shapes["/truth/cell_line_phenotype_factor"] == [2, 10])
    #expect(shapes["/truth/well_gene"] == [w])
    #expect(shapes["/truth/well_effect"] == [w, 17])
    #expect(shapes["/truth/batch_effect"] == [4, 17])
    #expect(shapes["/truth/plate_effect"] == [8, 17])
    // Lines differ; the control shows no phenotype whatever its factor; factors lie in 0…2.
    let lines = try #require(sim.cellLines)
    #expect(Array(lines.traits(ofLine: 0)) != Array(lines.traits(ofLine: 1)))
    #expect(lines.phenotypeFactor.allSatisfy { (0...2).contains($0) })
    // Genes of one complex share their line factor.
    #expect(lines.factor(line: 1, gene: 0) == lines.factor(line: 1, gene: 1))
    #expect(sim.truth.configJSON.contains("\"arrayed\""))
    let pooled = try ScreenSimulator(
      config: SimFixtures.smallConfig(), complexes: SimFixtures.smallTable())
    #expect(!pooled.truth.configJSON.contains("arrayed") && pooled.truth.arrayed == nil)
    #expect(!pooled.truth.datasets.contains { $0.path.hasPrefix("/truth/cell_line") })
  }

  @Test func withoutLineEffectLinesAreAlike() throws {
    var c = Self.config()
    c.arrayed?.cellLineEffect = 0
    let lines = try #require(
      ScreenSimulator(config: c, complexes: SimFixtures.smallTable()).cellLines)
    #expect(lines.traitShift.allSatisfy { $0 == 0 })
    #expect(lines.channelGain.allSatisfy { $0 == 1 })
    #expect(lines.phenotypeFactor.allSatisfy { $0 == 1 })
  }

  @Test func somePhenotypesAreAbsentOrWeakerInALine() throws {
    var c = Self.config(lines: 4)
    c.arrayed?.experiments = 12
    let table = try ComplexTable(contentsOf: SimFixtures.bundledTableURL)
    let lines = try #require(ScreenSimulator(config: c, complexes: table).cellLines)
    #expect(lines.phenotypeFactor.contains(0))
    #expect(lines.phenotypeFactor.contains { $0 > 0 && $0 < 0.9 })
    #expect(lines.names == ["HEPG2", "HUVEC", "RPE", "U2OS"])
  }

  static let badValues: [(String, @Sendable (inout ArrayedScreenConfig) -> Void)] = [
    ("--experiments", { $0.experiments = 0 }),
    ("--cell-lines", { $0.cellLines = 0 }),
    ("--cell-lines", { $0.cellLines = 13 }),
    ("--wells-per-gene", { $0.wellsPerGene = 0 }),
    ("--cells-per-well", { $0.cellsPerWell = 0 }),
    ("--cell-line-effect", { $0.cellLineEffect = -1 }),
    ("--cell-line-effect", { $0.cellLineEffect = .nan }),
  ]

  @Test(arguments: 0..<badValues.count)
  func outOfRangeValuesNameTheirFlag(_ k: Int) throws {
    let (flag, mutate) = Self.badValues[k]
    var c = SimulationConfig()
    var a = ArrayedScreenConfig()
    mutate(&a)
    c.arrayed = a
    let error = #expect(throws: SimulationError.self) {
      try ScreenSimulator(config: c, complexes: SimFixtures.smallTable())
    }
    guard case .invalidValue(let named, _, _)? = error else {
      Issue.record("expected .invalidValue for \(flag), got \(String(describing: error))")
      return
    }
    #expect(named == flag)
    #expect(error?.description.hasPrefix(flag) == true)
  }

  @Test func experimentsSpreadEvenlyOverLines() {
    #expect(ArrayedScreenConfig(experiments: 12, cellLines: 2).lineOfExperiment
      == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    #expect(ArrayedScreenConfig(experiments: 5, cellLines: 2).lineOfExperiment == [0, 0, 0, 1, 1])
    #expect(ArrayedScreenConfig(experiments: 3, cellLines: 3).lineOfExperiment == [0, 1, 2])
  }

  @Test func configRoundTripsThroughJSON() throws {
    let c = Self.config()
    let data = try JSONEncoder().encode(c)
    #expect(try JSONDecoder().decode(SimulationConfig.self, from: data) == c)
  }
}
