import GrapeSupport
import Foundation
import TensorCore
import Testing

@testable import Simulation
import OPSData

/// Batch-effect parameters change pixel statistics as `ImagingConditions` documents.
@Suite struct SimulationImagingTests {
  static let size = 32

  static func simulator() throws -> ScreenSimulator {
    try ScreenSimulator(
      config: SimFixtures.smallConfig(size: size), complexes: SimFixtures.smallTable())
  }

  /// Renders `n` control-like cells (same seeds for every call) under `conditions`.
  static func crops(_ sim: ScreenSimulator, _ conditions: ImagingConditions, n: Int = 12)
    throws -> [[UInt16]]
  {
    try (0..<n).map { i in
      var rng = RandomGenerator(seed: UInt64(1000 + i))
      let traits = PhenotypeParameter.drawNatural(&rng)
      return try sim.renderCrop(traits: traits, conditions: conditions, rng: &rng).pixels
    }
  }

  static func mean(_ crops: [[UInt16]], channel c: Int) -> Double {
    let area = size * size
    var total = 0.0
    for crop in crops { for k in 0..<area { total += Double(crop[c * area + k]) } }
    return total / Double(crops.count * area)
  }

  /// Mean squared difference of horizontally and vertically adjacent pixels (high frequencies).
  static func gradientEnergy(_ crops: [[UInt16]], channel c: Int) -> Double {
    let s = size
    var total = 0.0
    for crop in crops {
      let p = Array(crop[(c * s * s)..<((c + 1) * s * s)]).map(Double.init)
      for y in 0..<(s - 1) {
        for x in 0..<(s - 1) {
          let dx = p[y * s + x + 1] - p[y * s + x]
          let dy = p[(y + 1) * s + x] - p[y * s + x]
          total += dx * dx + dy * dy
        }
      }
    }
    return total / Double(crops.count)
  }

  @Test func gainScalesTheSignalOfItsChannelOnly() throws {
    let sim = try Self.simulator()
    let base = ImagingConditions.ideal()
    var doubled = base
    doubled.gain[2] = 2
    let a = try Self.crops(sim, base)
    let b = try Self.crops(sim, doubled)
    #expect(abs(Self.mean(b, channel: 2) / Self.mean(a, channel: 2) - 2) < 0.01)
    for c in [0, 1, 3] { #expect(Self.mean(a, channel: c) == Self.mean(b, channel: c)) }
    // With noise, the same draws scale with the signal: the ratio stays close to 2.
    var noisy = ImagingConditions.baseline()
    noisy.neighbourDensity = 0
    noisy.offset = [0, 0, 0, 0]
    var noisyDoubled = noisy
    noisyDoubled.gain[0] = 2
    let na = try Self.crops(sim, noisy)
    let nb = try Self.crops(sim, noisyDoubled)
    #expect(abs(Self.mean(nb, channel: 0) / Self.mean(na, channel: 0) - 2) < 0.03)
  }

  @Test func offsetShiftsTheMeanByItsValue() throws {
    let sim = try Self.simulator()
    let base = ImagingConditions.ideal()
    var shifted = base
    shifted.offset = [250, 0, 0, 40]
    let a = try Self.crops(sim, base)
    let b = try Self.crops(sim, shifted)
    #expect(abs(Self.mean(b, channel: 0) - Self.mean(a, channel: 0) - 250) < 0.01)
    #expect(abs(Self.mean(b, channel: 3) - Self.mean(a, channel: 3) - 40) < 0.01)
    #expect(Self.mean(b, channel: 1) == Self.mean(a, channel: 1))
  }

  @Test func blurLowersHighFrequencyEnergyAndKeepsTheMean() throws {
    let sim = try Self.simulator()
    let sharp = ImagingConditions.ideal()
    var soft = sharp
    soft.blurSigma = 4  // 4 px at 96 px, 1.33 px here
    var softer = sharp
    softer.blurSigma = 8
    let a = try Self.crops(sim, sharp)
    let b = try Self.crops(sim, soft)
    let c = try Self.crops(sim, softer)
    for ch in 0..<4 {
      let (ea, eb, ec) = (
        Self.gradientEnergy(a, channel: ch), Self.gradientEnergy(b, channel: ch),
        Self.gradientEnergy(c, channel: ch)
      )
      #expect(eb < 0.6 * ea, "channel \(ch)")
      #expect(ec < eb, "channel \(ch)")
      // Blurring redistributes light; edge replication keeps the total within a few per cent.
      #expect(abs(Self.mean(b, channel: ch) / Self.mean(a, channel: ch) - 1) < 0.05)
    }
  }

  @Test func noiseParametersRaiseVarianceAsDocumented() throws {
    // A uniform plane: the pixel variance is photonGain · signal + readNoise².
    let s = 64
    let ws = RenderWorkspace(size: s)
    for (photon, read) in [(Float(0), Float(20)), (Float(2), Float(0)), (Float(1.5), Float(12))] {
      ws.planes.update(repeating: 400, count: 4 * s * s)
      var c = ImagingConditions.ideal()
      c.photonGain = photon
      c.readNoise = read
      var out = [UInt16](repeating: 0, count: 4 * s * s)
      var rng = RandomGenerator(seed: 9)
      out.withUnsafeMutableBufferPointer { buffer in
        CellRenderer.applyImaging(
          c, ws, fieldX: 640, fieldY: 640, rng: &rng, out: buffer.baseAddress!)
      }
      let values = out.map(Double.init)
      let mean = values.reduce(0, +) / Double(values.count)
      let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
      let expected = Double(photon) * 400 + Double(read * read)
      #expect(abs(mean - 400) < 1)
      #expect(
        abs(variance / expected - 1) < 0.06,
        "photon \(photon), read \(read): \(variance) vs \(expected)")
    }
  }

  @Test func fastNormalHasUnitVarianceAndBoundedTails() {
    var rng = RandomGenerator(seed: 4)
    let n = 100_000
    var sum = 0.0
    var sum2 = 0.0
    var sum4 = 0.0
    for _ in 0..<n {
      let v = Double(CellRenderer.fastNormal(&rng))
      #expect(abs(v) <= 3.47)
      sum += v
      sum2 += v * v
      sum4 += v * v * v * v
    }
    #expect(abs(sum / Double(n)) < 0.01)
    #expect(abs(sum2 / Double(n) - 1) < 0.015)
    // Irwin–Hall(4) kurtosis is 3 − 1.2 / 4 = 2.7.
    #expect(abs(sum4 / Double(n) - 2.7) < 0.06)
  }

  @Test func vignettingDimsCropsAwayFromTheIlluminationCentre() throws {
    let s = 32
    let ws = RenderWorkspace(size: s)
    var c = ImagingConditions.ideal()
    c.vignetteStrength = 0.5
    let field = CellRenderer.fieldInCrops * Float(s)
    func meanAt(_ x: Float, _ y: Float, _ conditions: ImagingConditions) -> Double {
      ws.planes.update(repeating: 1000, count: 4 * s * s)
      var out = [UInt16](repeating: 0, count: 4 * s * s)
      var rng = RandomGenerator(seed: 1)
      out.withUnsafeMutableBufferPointer { buffer in
        CellRenderer.applyImaging(
          conditions, ws, fieldX: x, fieldY: y, rng: &rng, out: buffer.baseAddress!)
      }
      return out.map(Double.init).reduce(0, +) / Double(out.count)
    }
    #expect(abs(meanAt(field / 2, field / 2, c) - 1000) < 1)
    // Near a corner of the field: factor 1 − strength · |x − c|² / R², averaged over the crop's
    // pixels (the crop centre's squared distance plus the pixel offsets' variance (s² − 1) / 12
    // per axis).
    let corner = meanAt(Float(s) / 2, Float(s) / 2, c)
    let half = Double(field - Float(s)) / 2
    let r2 = Double(field * field) / 2
    let expected = 1000 * (1 - 0.5 * (2 * half * half + 2 * Double(s * s - 1) / 12) / r2)
    #expect(abs(corner - expected) < 1)
    #expect(corner < 560)
    // Moving the illumination centre towards that corner brightens it.
    var moved = c
    moved.vignetteCentreX = -0.3
    moved.vignetteCentreY = -0.3
    #expect(meanAt(Float(s) / 2, Float(s) / 2, moved) > corner + 200)
  }

  @Test func densityBringsNeighboursIntoTheCropBorder() throws {
    let sim = try Self.simulator()
    var sparse = ImagingConditions.ideal()
    sparse.neighbourDensity = 0
    var dense = sparse
    dense.neighbourDensity = 4
    func borderActin(_ crops: [[UInt16]]) -> Double {
      let s = Self.size
      var total = 0.0
      var n = 0
      for crop in crops {
        for y in 0..<s {
          for x in 0..<s where min(x, y, s - 1 - x, s - 1 - y) < 3 {
            total += Double(crop[3 * s * s + y * s + x])
            n += 1
          }
        }
      }
      return total / Double(n)
    }
    let a = borderActin(try Self.crops(sim, sparse, n: 20))
    let b = borderActin(try Self.crops(sim, dense, n: 20))
    #expect(b > 3 * a)
  }

  @Test func cellSizeShiftEnlargesCells() throws {
    let sim = try Self.simulator()
    var small = ImagingConditions.ideal()
    small.cellSizeShift = -0.2
    var large = small
    large.cellSizeShift = 0.2
    func cellArea(_ crops: [[UInt16]]) -> Double {
      let area = Self.size * Self.size
      // Pixels of cell body: tubulin clearly above the background.
      let counts = crops.map { crop in (0..<area).filter { crop[2 * area + $0] > 200 }.count }
      return Double(counts.reduce(0, +)) / Double(crops.count)
    }
    let a = cellArea(try Self.crops(sim, small))
    let b = cellArea(try Self.crops(sim, large))
    // Radii grow by e^0.4 ≈ 1.49, areas by about 2.2 (less where cells reach the crop edge).
    #expect(b > 1.5 * a)
  }

  @Test func debrisAddsBrightParticlesAtItsRate() throws {
    let sim = try Self.simulator()
    let clean = ImagingConditions.ideal()
    var dirty = clean
    dirty.debrisRate = 1
    let a = try Self.crops(sim, clean)
    let b = try Self.crops(sim, dirty)
    for (x, y) in zip(a, b) {
      // Debris only adds light, in a few hundred counts or more.
      #expect(zip(x, y).allSatisfy { $0 <= $1 })
      let added = zip(x, y).reduce(0.0) { $0 + Double($1.1) - Double($1.0) }
      #expect(added > 1000)
    }
    // At the baseline rate about 2 % of crops hold debris.
    var some = clean
    some.debrisRate = 0.25
    let c = try Self.crops(sim, some, n: 40)
    let a40 = try Self.crops(sim, clean, n: 40)
    let dirtyCount = zip(a40, c).filter { $0 != $1 }.count
    #expect((4...18).contains(dirtyCount))
  }

  @Test func theRendererRefusesValuesItCannotDraw() throws {
    let sim = try Self.simulator()
    var rng = RandomGenerator(seed: 1)
    let traits = PhenotypeParameter.drawNatural(&rng)
    #expect(throws: SimulationError.self) {
      try sim.renderCrop(traits: Array(traits.dropLast()), conditions: .ideal(), rng: &rng)
    }
    var bad = traits
    bad[3] = .nan
    #expect(throws: SimulationError.self) {
      try sim.renderCrop(traits: bad, conditions: .ideal(), rng: &rng)
    }
    let cases: [(String, (inout ImagingConditions) -> Void)] = [
      ("gain", { $0.gain = [1, 1, 1] }),
      ("offset", { $0.offset = [0, 0, 0, -5] }),
      ("blurSigma", { $0.blurSigma = -1 }),
      ("readNoise", { $0.readNoise = .infinity }),
      ("vignetteStrength", { $0.vignetteStrength = 1.5 }),
      ("debrisRate", { $0.debrisRate = -0.1 }),
      ("cellSizeShift", { $0.cellSizeShift = .nan }),
    ]
    for (field, mutate) in cases {
      var c = ImagingConditions.baseline()
      mutate(&c)
      let error = #expect(throws: SimulationError.self) {
        try sim.renderCrop(traits: traits, conditions: c, rng: &rng)
      }
      guard case .invalidConditions(let named, _)? = error else {
        Issue.record("expected .invalidConditions for \(field), got \(String(describing: error))")
        continue
      }
      #expect(named == field)
    }
    try ImagingConditions.baseline().validate(channels: 4)
    try ImagingConditions.ideal().validate(channels: 4)
    for plate in sim.plateConditions { try plate.validate(channels: 4) }
    #expect(throws: SimulationError.invalidArgument(name: "gene index", value: sim.geneCount)) {
      try sim.drawTraits(gene: sim.geneCount, rng: &rng)
    }
  }
}
