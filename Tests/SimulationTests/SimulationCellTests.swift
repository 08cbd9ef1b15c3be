import GrapeSupport
import Foundation
import TensorCore
import Testing

@testable import Simulation
import OPSData

/// Rendered crops look like cells in measurable ways, and each trait moves what it names.
@Suite struct SimulationCellTests {
  static let size = 48

  static func simulator(size: Int = size) throws -> ScreenSimulator {
    try ScreenSimulator(
      config: SimFixtures.smallConfig(size: size), complexes: SimFixtures.smallTable())
  }

  /// Ideal imaging without neighbours: only the centred cell is in the crop.
  static var quiet: ImagingConditions { ImagingConditions.ideal() }

  /// A crop of size s as four planes of Doubles.
  struct Crop {
    let s: Int
    let planes: [[Double]]
    let mitotic: Bool
    let foci: Int

    init(_ pixels: [UInt16], size s: Int, mitotic: Bool, foci: Int) {
      self.s = s
      planes = (0..<4).map { c in pixels[(c * s * s)..<((c + 1) * s * s)].map(Double.init) }
      self.mitotic = mitotic
      self.foci = foci
    }

    func total(_ c: Int) -> Double { planes[c].reduce(0, +) - 40 * Double(s * s) }

    /// Pixels of channel c above `fraction` of the way from background to its maximum.
    func mask(_ c: Int, fraction: Double) -> [Bool] {
      let top = planes[c].max() ?? 0
      let cut = 40 + fraction * (top - 40)
      return planes[c].map { $0 > cut }
    }

    func area(_ c: Int, fraction: Double) -> Int { mask(c, fraction: fraction).filter { $0 }.count }

    /// Eccentricity of a mask from its second moments (0 = round).
    func eccentricity(_ m: [Bool]) -> Double {
      var n = 0.0
      var sx = 0.0
      var sy = 0.0
      for i in m.indices where m[i] {
        n += 1
        sx += Double(i % s)
        sy += Double(i / s)
      }
      let mx = sx / n
      let my = sy / n
      var xx = 0.0
      var yy = 0.0
      var xy = 0.0
      for i in m.indices where m[i] {
        let dx = Double(i % s) - mx
        let dy = Double(i / s) - my
        xx += dx * dx
        yy += dy * dy
        xy += dx * dy
      }
      let t = (xx + yy) / 2
      let d = (((xx - yy) / 2) * ((xx - yy) / 2) + xy * xy).squareRoot()
      return (1 - (t - d) / (t + d)).squareRoot()
    }

    /// Perimeter² / area of a mask (4π for a disc; larger when the outline is rough).
    func roughness(_ m: [Bool]) -> Double {
      var edges = 0.0
      for y in 0..<s {
        for x in 0..<s where m[y * s + x] {
          if x == 0 || !m[y * s + x - 1] { edges += 1 }
          if x == s - 1 || !m[y * s + x + 1] { edges += 1 }
          if y == 0 || !m[(y - 1) * s + x] { edges += 1 }
          if y == s - 1 || !m[(y + 1) * s + x] { edges += 1 }
        }
      }
      let area = Double(m.filter { $0 }.count)
      return edges * edges / area
    }

    /// Coefficient of variation of channel c inside mask m.
    func variation(_ c: Int, in m: [Bool]) -> Double {
      let values = m.indices.filter { m[$0] }.map { planes[c][$0] }
      let mean = values.reduce(0, +) / Double(values.count)
      let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count))
        .squareRoot()
      return sd / mean
    }

    /// Local maxima of channel c exceeding background by `height`.
    func peaks(_ c: Int, height: Double) -> Int {
      let p = planes[c]
      var n = 0
      for y in 1..<(s - 1) {
        for x in 1..<(s - 1) {
          let v = p[y * s + x]
          if v < 40 + height { continue }
          var isMax = true
          for dy in -1...1 {
            for dx in -1...1 where (dx != 0 || dy != 0) && p[(y + dy) * s + x + dx] >= v {
              isMax = false
            }
          }
          if isMax { n += 1 }
        }
      }
      return n
    }

    /// Coherence of the structure tensor of channel c inside mask m (1 = one orientation).
    func coherence(_ c: Int, in m: [Bool]) -> Double {
      let p = planes[c]
      var xx = 0.0
      var yy = 0.0
      var xy = 0.0
      for y in 1..<(s - 1) {
        for x in 1..<(s - 1) where m[y * s + x] {
          let gx = (p[y * s + x + 1] - p[y * s + x - 1]) / 2
          let gy = (p[(y + 1) * s + x] - p[(y - 1) * s + x]) / 2
          xx += gx * gx
          yy += gy * gy
          xy += gx * gy
        }
      }
      return (((xx - yy) * (xx - yy) + 4 * xy * xy).squareRoot()) / (xx + yy)
    }
  }

  /// `n` cells with the same seeds, natural traits damped, and trait `p` set to `value`.
  static func cells(
    _ sim: ScreenSimulator, _ p: PhenotypeParameter?, _ value: Float, n: Int = 10,
    conditions: ImagingConditions = quiet
  ) throws -> [Crop] {
    try (0..<n).map { i in
      var rng = RandomGenerator(seed: UInt64(500 + i))
      var traits = PhenotypeParameter.drawNatural(&rng).map { $0 * 0.5 }
      traits[PhenotypeParameter.mitoticFraction.rawValue] = -2
      if let p { traits[p.rawValue] = value }
      let r = try sim.renderCrop(traits: traits, conditions: conditions, rng: &rng)
      return Crop(r.pixels, size: sim.config.size, mitotic: r.mitotic, foci: r.foci)
    }
  }

  static func mean(_ crops: [Crop], _ f: (Crop) -> Double) -> Double {
    crops.map(f).reduce(0, +) / Double(crops.count)
  }

  @Test func dnaSitsInTheCentreInsideTheCellBody() throws {
    let sim = try Self.simulator()
    let s = Self.size
    for crop in try Self.cells(sim, nil, 0, n: 12) {
      // The DNA centroid is the crop centre (crops are cut around nuclei).
      var total = 0.0
      var cx = 0.0
      var cy = 0.0
      for i in 0..<(s * s) {
        let v = max(0, crop.planes[0][i] - 40)
        total += v
        cx += v * (Double(i % s) + 0.5)
        cy += v * (Double(i / s) + 0.5)
      }
      #expect(abs(cx / total - Double(s) / 2) < 1.5 && abs(cy / total - Double(s) / 2) < 1.5)
      // Central disc versus the outer ring.
      var centre = 0.0
      var nc = 0.0
      var ring = 0.0
      var nr = 0.0
      for y in 0..<s {
        for x in 0..<s {
          let r =
            ((Double(x) + 0.5 - Double(s) / 2) * (Double(x) + 0.5 - Double(s) / 2)
            + (Double(y) + 0.5 - Double(s) / 2) * (Double(y) + 0.5 - Double(s) / 2)).squareRoot()
          if r < 0.1 * Double(s) {
            centre += crop.planes[0][y * s + x]
            nc += 1
          }
          if r > 0.4 * Double(s) && r < 0.5 * Double(s) {
            ring += crop.planes[0][y * s + x]
            nr += 1
          }
        }
      }
      #expect(centre / nc > 8 * (ring / nr))
      // Every bright DNA pixel lies inside the cell body (cytoplasmic stains present there).
      let nucleus = crop.mask(0, fraction: 0.5)
      let body = crop.planes[3].map { $0 > 200 }
      let inside = nucleus.indices.filter { nucleus[$0] }.filter { body[$0] }.count
      #expect(Double(inside) >= 0.98 * Double(nucleus.filter { $0 }.count))
      // The body is much larger than the nucleus.
      #expect(body.filter { $0 }.count > 2 * nucleus.filter { $0 }.count)
    }
  }

  @Test func fociInTheImageFollowTheFociTrait() throws {
    let sim = try Self.simulator(size: 64)
    let crops = try Self.cells(sim, .fociCount, 1.5, n: 16)
    let truth = crops.map { Double($0.foci) }
    let seen = crops.map { Double($0.peaks(1, height: 400)) }
    // Pearson correlation between drawn and visible foci.
    let mt = truth.reduce(0, +) / 16
    let ms = seen.reduce(0, +) / 16
    var sxy = 0.0
    var sxx = 0.0
    var syy = 0.0
    for (a, b) in zip(truth, seen) {
      sxy += (a - mt) * (b - ms)
      sxx += (a - mt) * (a - mt)
      syy += (b - ms) * (b - ms)
    }
    #expect(sxy / (sxx * syy).squareRoot() > 0.7)
    let few = try Self.cells(sim, .fociCount, -2, n: 16)
    #expect(Self.mean(crops) { Double($0.foci) } > 3 * Self.mean(few) { Double($0.foci) })
  }

  @Test func mitoticCellsHaveCondensedBrightChromatin() throws {
    let sim = try Self.simulator()
    let interphase = try Self.cells(sim, .mitoticFraction, -3, n: 12)
    let mitotic = try Self.cells(sim, .mitoticFraction, 3, n: 12)
    #expect(interphase.allSatisfy { !$0.mitotic })
    #expect(mitotic.allSatisfy { $0.mitotic })
    let peak = { (c: Crop) in c.planes[0].max() ?? 0 }
    #expect(Self.mean(mitotic, peak) > 1.5 * Self.mean(interphase, peak))
    // The chromatin of a dividing cell is compact: a smaller bright area.
    #expect(
      Self.mean(mitotic) { Double($0.area(0, fraction: 0.3)) }
        < Self.mean(interphase) { Double($0.area(0, fraction: 0.3)) })
  }

  /// For each trait, a statistic that must rise from trait −2 to trait +2.
  static let readouts: [(PhenotypeParameter, @Sendable (Crop) -> Double)] = [
    (.nuclearSize, { Double($0.area(0, fraction: 0.3)) }),
    (.nuclearEccentricity, { $0.eccentricity($0.mask(0, fraction: 0.3)) }),
    (.nuclearIrregularity, { $0.roughness($0.mask(0, fraction: 0.3)) }),
    (.dnaIntensity, { $0.total(0) }),
    (.chromatinTexture, { $0.variation(0, in: $0.mask(0, fraction: 0.4)) }),
    (.fociCount, { Double($0.peaks(1, height: 400)) }),
    (.fociIntensity, { $0.total(1) }),
    (.cellArea, { Double($0.planes[3].filter { $0 > 200 }.count) }),
    (.cellEccentricity, { $0.eccentricity($0.planes[3].map { $0 > 200 }) }),
    (.tubulinIntensity, { $0.total(2) }),
    (.microtubuleDensity, { $0.total(2) }),
    (.actinFibres, { $0.total(3) }),
    (.actinAlignment, { $0.coherence(3, in: $0.planes[3].map { $0 > 200 }) }),
    (.corticalActin, { $0.total(3) }),
  ]

  @Test(arguments: 0..<readouts.count)
  func eachTraitMovesWhatItNames(_ k: Int) throws {
    let (trait, readout) = Self.readouts[k]
    let sim = try Self.simulator()
    let low = Self.mean(try Self.cells(sim, trait, -2), readout)
    let high = Self.mean(try Self.cells(sim, trait, 2), readout)
    #expect(high > 1.1 * low, "\(trait.name): \(low) → \(high)")
  }
}
