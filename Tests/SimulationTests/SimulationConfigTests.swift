import Foundation
import Testing

@testable import Simulation
import OPSData

@Suite struct SimulationConfigTests {
  @Test func defaultsAreValidAndDocumented() throws {
    let c = SimulationConfig()
    try c.validate()
    #expect(c.size == 32 && c.cellsPerGene == 100 && c.controls == 4 && c.batches == 4)
    #expect(c.platesPerBatch == 2 && c.wellsPerPlate == 6 && c.seed == 0)
    #expect(c.batchEffect == 1 && c.phenotypeStrength == 1 && c.controlName == "nontargeting")
  }

  /// Each bad value, the flag its error must name.
  static let badValues: [(String, @Sendable (inout SimulationConfig) -> Void)] = [
    ("--size", { $0.size = 15 }),
    ("--size", { $0.size = 129 }),
    ("--cells-per-gene", { $0.cellsPerGene = 0 }),
    ("--controls", { $0.controls = 0 }),
    ("--batches", { $0.batches = 0 }),
    ("--plates-per-batch", { $0.platesPerBatch = -1 }),
    ("--batch-effect", { $0.batchEffect = -0.5 }),
    ("--batch-effect", { $0.batchEffect = .nan }),
    ("--batch-effect", { $0.batchEffect = 10.5 }),
    ("--phenotype-strength", { $0.phenotypeStrength = -1 }),
    ("--phenotype-strength", { $0.phenotypeStrength = .infinity }),
    ("wells per plate", { $0.wellsPerPlate = 0 }),
    ("control name", { $0.controlName = " nt" }),
    ("control name", { $0.controlName = "" }),
  ]

  @Test(arguments: 0..<badValues.count)
  func outOfRangeValuesNameTheirFlag(_ k: Int) {
    let (flag, mutate) = Self.badValues[k]
    var c = SimulationConfig()
    mutate(&c)
    let error = #expect(throws: SimulationError.self) { try c.validate() }
    guard case .invalidValue(let named, _, _)? = error else {
      Issue.record("expected .invalidValue for \(flag), got \(String(describing: error))")
      return
    }
    #expect(named == flag)
    #expect(error?.description.hasPrefix(flag) == true)
    // The simulator validates too.
    #expect(throws: SimulationError.self) {
      try ScreenSimulator(config: c, complexes: SimFixtures.smallTable())
    }
  }

  @Test func boundaryValuesAreAccepted() throws {
    var c = SimulationConfig()
    c.size = 16
    c.batchEffect = 0
    c.phenotypeStrength = 0
    c.cellsPerGene = 1
    c.controls = 1
    c.batches = 1
    c.platesPerBatch = 1
    try c.validate()
    c.size = 128
    c.batchEffect = 10
    c.phenotypeStrength = 10
    try c.validate()
  }

  @Test func theControlLabelMustNotBeATableGene() throws {
    var c = SimFixtures.smallConfig()
    c.controlName = "C1G2"
    #expect(throws: SimulationError.controlNameClash(name: "C1G2", source: "<memory>")) {
      try ScreenSimulator(config: c, complexes: SimFixtures.smallTable())
    }
  }

  @Test func anEmptyTableIsRefused() throws {
    let empty = try ComplexTable(complexes: [], source: "empty.tsv")
    #expect(throws: SimulationError.noGenes(source: "empty.tsv")) {
      try ScreenSimulator(config: SimFixtures.smallConfig(), complexes: empty)
    }
  }

  @Test func hugeScreensAreRefusedBeforeAllocating() throws {
    var c = SimFixtures.smallConfig()
    c.cellsPerGene = 1_000_000
    c.controls = 100_000
    let error = #expect(throws: SimulationError.self) {
      try ScreenSimulator(config: c, complexes: SimFixtures.smallTable())
    }
    #expect(error?.description.contains("--cells-per-gene") == true)
  }

  @Test func configRoundTripsThroughJSON() throws {
    var c = SimulationConfig(size: 48, cellsPerGene: 7, seed: 99)
    c.controlName = "NT"
    let data = try JSONEncoder().encode(c)
    #expect(try JSONDecoder().decode(SimulationConfig.self, from: data) == c)
  }
}

/// The extremes of every range render quickly and sanely.
@Suite struct SimulationExtremeSettingsTests {
  @Test(arguments: [16, 17, 128])
  func everyCropSizeRendersACentredCell(size: Int) throws {
    var c = SimFixtures.smallConfig(size: size, cellsPerGene: 1)
    c.controls = 1
    c.batches = 1
    c.platesPerBatch = 1
    let sim = try ScreenSimulator(
      config: c, complexes: SimFixtures.smallTable(complexes: 1, genes: 1))
    let chunk = try sim.render(cells: 0..<sim.cellCount, threads: 1)
    #expect(chunk.count == 2 && chunk.pixels.count == 2 * 4 * size * size)
    for i in 0..<chunk.count {
      let area = size * size
      let dna = chunk.crop(i).prefix(area).map(Double.init)
      var total = 0.0
      var cx = 0.0
      var cy = 0.0
      let floor = dna.min() ?? 0
      for k in 0..<area {
        let v = dna[k] - floor
        total += v
        cx += v * (Double(k % size) + 0.5)
        cy += v * (Double(k / size) + 0.5)
      }
      // The DNA stain is centred (neighbours and debris may pull it a little).
      #expect(abs(cx / total - Double(size) / 2) < 0.2 * Double(size))
      #expect(abs(cy / total - Double(size) / 2) < 0.2 * Double(size))
    }
  }

  @Test func maximalStrengthsStayDrawable() throws {
    var c = SimFixtures.smallConfig(size: 24, cellsPerGene: 3, seed: 5)
    c.batchEffect = SimulationConfig.maximumStrength
    c.phenotypeStrength = SimulationConfig.maximumStrength
    c.batches = 4
    let sim = try ScreenSimulator(config: c, complexes: SimFixtures.smallTable())
    #expect(sim.plateConditions.allSatisfy { $0.blurSigma <= ImagingConditions.maximumBlur })
    #expect(sim.plateConditions.allSatisfy { $0.debrisRate <= 0.5 && $0.vignetteStrength <= 0.8 })
    for plate in sim.plateConditions { try plate.validate(channels: 4) }
    // The example grids render under such conditions too.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "grape-extreme-\(getpid())")
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(try sim.renderExampleGrids(outDir: dir).count == 4)
    let start = Date()
    let sink = try SimFixtures.collect(sim, chunkSize: 16, threads: 2)
    #expect(Date().timeIntervalSince(start) < 30)
    #expect(sink.count == sim.cellCount)
    // Extreme gains saturate some pixels but never all of them.
    let saturated = sink.pixels.filter { $0 == UInt16.max }.count
    #expect(saturated < sink.pixels.count / 2)
    #expect(sink.chunks.flatMap(\.traits).allSatisfy { $0.isFinite })
  }
}
