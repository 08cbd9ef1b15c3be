import Foundation
import OPSData
import GrapeSupport

/// Scratch memory for rendering crops of one size: four float planes and a blur buffer.
///
/// Owned by one thread at a time; reused from cell to cell so rendering allocates little.
final class RenderWorkspace {
  let size: Int
  let channels: Int
  let planes: UnsafeMutablePointer<Float>
  let scratch: UnsafeMutablePointer<Float>

  init(size: Int, channels: Int = CellRenderer.channelCount) {
    self.size = size
    self.channels = channels
    planes = .allocate(capacity: channels * size * size)
    scratch = .allocate(capacity: size * size)
  }

  deinit {
    planes.deallocate()
    scratch.deallocate()
  }

  /// Plane `c` (row-major `size × size`).
  @inline(__always) func plane(_ c: Int) -> UnsafeMutablePointer<Float> {
    planes + c * size * size
  }
}

/// What the renderer knows about one rendered cell beyond its pixels.
struct RenderedCellInfo: Sendable {
  var mitotic: Bool
  var fociCount: Int
  /// Position of the crop centre in its field of view (pixels).
  var fieldX: Float
  var fieldY: Float
}

/// Draws cells into four-channel crops: DNA, DNA damage, microtubules, F-actin.
///
/// A crop is drawn in three steps: the noise-free stain images of the centred cell and of the
/// neighbours reaching into the crop (`draw`), and in a few crops a debris particle; then the
/// plate's imaging conditions (blur, gain, illumination falloff, offset and camera noise; see
/// `ImagingConditions`), with the blur of each crop varied around the plate's by a log-normal
/// factor (σ = 0.2) for focus drift; then rounding to UInt16.
enum CellRenderer {
  /// Number of channels.
  static let channelCount = 4
  /// Channel indices.
  static let dna = 0
  static let damage = 1
  static let tubulin = 2
  static let actin = 3
  /// Side of the square field of view a crop is cut from, in crop sides.
  static let fieldInCrops: Float = 20
  /// Log-normal spread of each crop's blur around its plate's (focus drift).
  static let focusJitter: Float = 0.2

  /// Renders one crop.
  ///
  /// - Parameters:
  ///   - traits: the centred cell's trait values.
  ///   - conditions: the plate's imaging conditions.
  ///   - workspace: scratch memory of the crop's size.
  ///   - rng: the cell's generator; every draw for this crop comes from it.
  ///   - out: `channels × size × size` values, written in channel-major order.
  /// - Returns: facts about the centred cell.
  static func render(
    traits: [Float], conditions: ImagingConditions, workspace ws: RenderWorkspace,
    rng: inout RandomGenerator, out: UnsafeMutablePointer<UInt16>
  ) -> RenderedCellInfo {
    let s = ws.size
    let area = s * s
    let half = Float(s) / 2
    let field = fieldInCrops * Float(s)
    let fieldX = half + Float(rng.uniform()) * (field - Float(s))
    let fieldY = half + Float(rng.uniform()) * (field - Float(s))
    let jitter = 0.5 * Float(s) / 96
    let main = CellModel.build(
      traits: traits, x: half + jitter * Float(rng.normal()),
      y: half + jitter * Float(rng.normal()),
      size: s, sizeShift: conditions.cellSizeShift, rng: &rng)

    ws.planes.update(repeating: CellModel.backgroundCounts, count: ws.channels * area)
    let neighbours = min(6, rng.poisson(Double(max(0, conditions.neighbourDensity))))
    for _ in 0..<neighbours {
      let angle = Float(rng.uniform()) * 2 * Float.pi
      let distance = Float(rng.uniform(0.5, 0.78)) * Float(s)
      var natural = PhenotypeParameter.drawNatural(&rng)
      natural[PhenotypeParameter.cellArea.rawValue] -= 0.5  // crowded neighbours are smaller
      let other = CellModel.build(
        traits: natural, x: half + distance * Foundation.cos(angle),
        y: half + distance * Foundation.sin(angle), size: s,
        sizeShift: conditions.cellSizeShift, rng: &rng)
      draw(other, ws)
    }
    draw(main, ws)
    if rng.uniform() < Double(conditions.debrisRate) { drawDebris(ws, rng: &rng) }
    // Focus drifts across a plate: each crop's blur varies around the plate's.
    var imaging = conditions
    imaging.blurSigma *= Foundation.exp(focusJitter * Float(rng.normal()))
    applyImaging(imaging, ws, fieldX: fieldX, fieldY: fieldY, rng: &rng, out: out)
    return RenderedCellInfo(
      mitotic: main.stage != .interphase, fociCount: main.foci.count, fieldX: fieldX, fieldY: fieldY
    )
  }

  // MARK: - Drawing the stain images

  /// Adds one cell's noise-free stain images to the workspace planes.
  ///
  /// The cell lies on top of what is already drawn: inside its body, earlier cells (neighbours)
  /// are dimmed to 10 %, so cells abut rather than blend.
  static func draw(_ m: CellModel, _ ws: RenderWorkspace) {
    let s = ws.size
    let reach = m.cell.reach + 2
    let x0 = max(0, Int((m.cell.cx - reach).rounded(.down)))
    let x1 = min(s - 1, Int((m.cell.cx + reach).rounded(.up)))
    let y0 = max(0, Int((m.cell.cy - reach).rounded(.down)))
    let y1 = min(s - 1, Int((m.cell.cy + reach).rounded(.up)))
    guard x0 <= x1, y0 <= y1 else { return }
    let dnaP = ws.plane(dna)
    let damageP = ws.plane(damage)
    let tubulinP = ws.plane(tubulin)
    let actinP = ws.plane(actin)
    let background = CellModel.backgroundCounts
    let span = max(1, m.cellRadius - m.nucleusRadius)
    let invSpan = 1 / span
    let texScale = m.textureContrast / 0.35
    let w = m.cortexWidth
    let invW = 1 / w
    let cortexReach = 3 * w
    let mitotic = m.stage != .interphase
    let bodies = m.chromatin
    m.texture.coarse.withUnsafeBufferPointer { cg in
      m.texture.fine.withUnsafeBufferPointer { fg in
        m.cytoplasm.coarse.withUnsafeBufferPointer { ccg in
          m.cytoplasm.fine.withUnsafeBufferPointer { cfg in
            for y in y0...y1 {
              let py = Float(y) + 0.5
              let row = y * s
              for x in x0...x1 {
                let px = Float(x) + 0.5
                let ce = m.cell.evaluate(px, py)
                if ce.distance < -1 { continue }
                let mc = min(1, max(0, ce.distance + 0.5))
                let i = row + x
                // Occlude whatever lies below this cell.
                let keep = 1 - 0.9 * mc
                dnaP[i] = background + (dnaP[i] - background) * keep
                damageP[i] = background + (damageP[i] - background) * keep
                tubulinP[i] = background + (tubulinP[i] - background) * keep
                actinP[i] = background + (actinP[i] - background) * keep
                // Chromatin mask and dome-shaped profile (the nucleus is thickest at its centre).
                var mn: Float = 0
                var dome: Float = 0
                var nucleusDistance: Float = -.greatestFiniteMagnitude
                for body in bodies {
                  let ne = body.evaluate(px, py)
                  if ne.distance > nucleusDistance { nucleusDistance = ne.distance }
                  let mask = min(1, max(0, 0.8 * ne.distance + 0.5))
                  if mask > mn {
                    mn = mask
                    let q = min(1, ne.rho / ne.edge)
                    dome = (1 - q * q).squareRoot()
                  }
                }
                if mn > 0 {
                  let tex = m.texture.value(px, py, coarse: cg, fine: fg)
                  let modulation = max(0.1, 1 + texScale * tex)
                  dnaP[i] += m.dnaLevel * mn * (0.65 + 0.35 * dome) * modulation
                  damageP[i] += m.damageLevel * mn * (1 + 0.5 * texScale * tex)
                }
                let grain = m.cytoplasm.value(px, py, coarse: ccg, fine: cfg)
                // Tubulin: brightest around the nucleus, dimmer towards the edge and over it.
                let peri = min(1, max(0, -nucleusDistance * invSpan))
                let radial = mitotic ? 0.8 : (0.3 + 0.7 * (1 - peri) * (1 - peri))
                tubulinP[i] += m.tubulinLevel * mc * radial * (1 - 0.45 * mn) * (1 + 0.35 * grain)
                // Actin: diffuse cytoplasm plus an uneven cortex just inside the edge.
                var cortex: Float = 0
                if ce.distance < cortexReach {
                  let d = max(0, ce.distance) * invW
                  cortex = Foundation.exp(-d * d) * max(0, 1 + 1.2 * grain)
                }
                actinP[i] += mc * (m.actinLevel * (1 + 0.4 * grain) + m.cortexLevel * cortex)
              }
            }
          }
        }
      }
    }
    for spot in m.nucleoli { dip(dnaP, s, spot) }
    for spot in m.foci { stamp(damageP, s, spot) }
    for spot in m.centrosomes { stamp(tubulinP, s, spot) }
    let bodyReach = bodies.map { body -> Float in
      let r = body.reach + 1
      return r * r
    }
    for fibre in m.microtubules {
      march(fibre, tubulinP, s, within: m.cell, dimmedBy: bodies, reach: bodyReach)
    }
    for fibre in m.stressFibres {
      march(fibre, actinP, s, within: m.cell, dimmedBy: [], reach: [])
    }
  }

  /// Adds a debris particle: a cluster of 1–3 bright blobs anywhere in the crop, fluorescent in a
  /// random subset of the channels (autofluorescent dust and fragments of dead cells).
  static func drawDebris(_ ws: RenderWorkspace, rng: inout RandomGenerator) {
    let s = ws.size
    let unit = Float(s) / 96
    let x = Float(rng.uniform()) * Float(s)
    let y = Float(rng.uniform()) * Float(s)
    var channels = (0..<ws.channels).filter { _ in rng.uniform() < 0.5 }
    if channels.isEmpty { channels = [rng.int(below: ws.channels)] }
    let blobs = 1 + rng.int(below: 3)
    for _ in 0..<blobs {
      let spot = Spot(
        x: x + 3 * unit * Float(rng.normal()), y: y + 3 * unit * Float(rng.normal()),
        sigma: max(0.6, Float(rng.uniform(1.5, 4)) * unit),
        amount: 60_000 * unit * unit * Float(rng.uniform(0.3, 1)))
      for c in channels { stamp(ws.plane(c), s, spot) }
    }
  }

  /// Adds a Gaussian spot of integrated intensity `spot.amount`.
  static func stamp(_ p: UnsafeMutablePointer<Float>, _ s: Int, _ spot: Spot) {
    let r = 3 * spot.sigma
    let x0 = max(0, Int((spot.x - r).rounded(.down)))
    let x1 = min(s - 1, Int((spot.x + r).rounded(.up)))
    let y0 = max(0, Int((spot.y - r).rounded(.down)))
    let y1 = min(s - 1, Int((spot.y + r).rounded(.up)))
    guard x0 <= x1, y0 <= y1 else { return }
    let inv = 1 / (2 * spot.sigma * spot.sigma)
    let peak = spot.amount * inv / Float.pi
    for y in y0...y1 {
      let dy = Float(y) + 0.5 - spot.y
      for x in x0...x1 {
        let dx = Float(x) + 0.5 - spot.x
        p[y * s + x] += peak * Foundation.exp(-(dx * dx + dy * dy) * inv)
      }
    }
  }

  /// Multiplies by `1 − depth · g(x)`, a Gaussian dip of relative depth `spot.amount`.
  static func dip(_ p: UnsafeMutablePointer<Float>, _ s: Int, _ spot: Spot) {
    let r = 3 * spot.sigma
    let x0 = max(0, Int((spot.x - r).rounded(.down)))
    let x1 = min(s - 1, Int((spot.x + r).rounded(.up)))
    let y0 = max(0, Int((spot.y - r).rounded(.down)))
    let y1 = min(s - 1, Int((spot.y + r).rounded(.up)))
    guard x0 <= x1, y0 <= y1 else { return }
    let inv = 1 / (2 * spot.sigma * spot.sigma)
    for y in y0...y1 {
      let dy = Float(y) + 0.5 - spot.y
      for x in x0...x1 {
        let dx = Float(x) + 0.5 - spot.x
        p[y * s + x] *= 1 - spot.amount * Foundation.exp(-(dx * dx + dy * dy) * inv)
      }
    }
  }

  /// Deposits a fibre by marching in half-pixel steps from its start point until it leaves the
  /// cell (1 pixel inside the outline) or reaches its length; each step is splatted bilinearly.
  /// Over a chromatin body in `dimmedBy` the deposit is halved (fibres run above or below it);
  /// `reach` holds each body's squared bounding radius, for a cheap test first.
  ///
  /// The direction is carried as a unit vector and turned by each step's small change of angle
  /// (`curvature · step` plus the change of the sinusoidal wiggle, itself advanced by a rotation
  /// recurrence), so no trigonometric function is called per step. A fibre that has left the crop
  /// and heads further away is not followed (neighbours' fibres mostly lie outside the crop).
  static func march(
    _ f: Fibre, _ p: UnsafeMutablePointer<Float>, _ s: Int, within cell: Outline,
    dimmedBy bodies: [Outline], reach bodyReach: [Float]
  ) {
    let step: Float = 0.5
    let limit = Float(s)
    // Rotation of the wiggle's phase per step.
    let wc = Foundation.cos(f.wiggleFrequency * step)
    let ws = Foundation.sin(f.wiggleFrequency * step)
    let passes = f.twoSided ? 2 : 1
    for pass in 0..<passes {
      let angle0 = f.angle + (pass == 1 ? Float.pi : 0)
      var dx = Foundation.cos(angle0)
      var dy = Foundation.sin(angle0)
      var phaseSin = Foundation.sin(f.wigglePhase)
      var phaseCos = Foundation.cos(f.wigglePhase)
      var x = f.x
      var y = f.y
      var length: Float = 0
      var steps = 0
      while length < f.maxLength {
        // The outline is tested every other step; with the 1-pixel margin a fibre still stops
        // inside its cell.
        if steps & 1 == 0 && !cell.contains(x, y, margin: 1) { break }
        let insideCrop = x > -1 && y > -1 && x < limit && y < limit
        if !insideCrop {
          // Outside the crop and heading away from it: nothing more of this fibre can show.
          if (x <= -1 && dx < 0) || (x >= limit && dx > 0) || (y <= -1 && dy < 0)
            || (y >= limit && dy > 0)
          {
            break
          }
        } else {
          var amount = f.deposit * step
          // Ends taper so that fibres fade rather than stop.
          if length < 2 { amount *= 0.5 + 0.25 * length }
          for (k, body) in bodies.enumerated() {
            let ox = x - body.cx
            let oy = y - body.cy
            if ox * ox + oy * oy < bodyReach[k] && body.contains(x, y) { amount *= 0.5 }
          }
          splat(p, s, x - 0.5, y - 0.5, amount)
        }
        // Turn by this step's change of angle.
        let nextSin = phaseSin * wc + phaseCos * ws
        phaseCos = phaseCos * wc - phaseSin * ws
        let delta = f.curvature * step + f.wiggle * (nextSin - phaseSin)
        phaseSin = nextSin
        let c = 1 - 0.5 * delta * delta
        let sn = delta - delta * delta * delta / 6
        let ndx = dx * c - dy * sn
        dy = dx * sn + dy * c
        dx = ndx
        x += step * dx
        y += step * dy
        length += step
        steps += 1
      }
    }
  }

  /// Adds `amount` at (x, y) in pixel-centre coordinates, shared bilinearly over 4 pixels.
  @inline(__always)
  static func splat(
    _ p: UnsafeMutablePointer<Float>, _ s: Int, _ x: Float, _ y: Float, _ amount: Float
  ) {
    let fx = x.rounded(.down)
    let fy = y.rounded(.down)
    let ix = Int(fx)
    let iy = Int(fy)
    let tx = x - fx
    let ty = y - fy
    let weights = ((1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty)
    if iy >= 0 && iy < s {
      if ix >= 0 && ix < s { p[iy * s + ix] += amount * weights.0 }
      if ix + 1 >= 0 && ix + 1 < s { p[iy * s + ix + 1] += amount * weights.1 }
    }
    if iy + 1 >= 0 && iy + 1 < s {
      if ix >= 0 && ix < s { p[(iy + 1) * s + ix] += amount * weights.2 }
      if ix + 1 >= 0 && ix + 1 < s { p[(iy + 1) * s + ix + 1] += amount * weights.3 }
    }
  }

  // MARK: - Imaging: blur, gain, illumination, offset, noise, quantisation

  /// Turns the stain planes into camera counts under `conditions` (see `ImagingConditions`).
  static func applyImaging(
    _ c: ImagingConditions, _ ws: RenderWorkspace, fieldX: Float, fieldY: Float,
    rng: inout RandomGenerator, out: UnsafeMutablePointer<UInt16>
  ) {
    let s = ws.size
    let area = s * s
    // A blur wider than the crop is cut at the crop's size (edges are replicated anyway).
    let sigma = min(c.blurSigma * Float(s) / 96, Float(s) / 3)
    if sigma >= 0.2 {
      let kernel = gaussianKernel(sigma)
      for ch in 0..<ws.channels { blur(ws.plane(ch), ws.scratch, s, kernel) }
    }
    // Illumination falloff over the field of view; depends on the pixel only, shared by channels.
    let field = fieldInCrops * Float(s)
    let cx = field * (0.5 + c.vignetteCentreX)
    let cy = field * (0.5 + c.vignetteCentreY)
    let invR2 = 2 / (field * field)
    let half = Float(s) / 2
    let vignette = ws.scratch
    for y in 0..<s {
      let fy = fieldY + Float(y) + 0.5 - half - cy
      for x in 0..<s {
        let fx = fieldX + Float(x) + 0.5 - half - cx
        vignette[y * s + x] = max(0.2, 1 - c.vignetteStrength * (fx * fx + fy * fy) * invR2)
      }
    }
    let noisy = c.photonGain > 0 || c.readNoise > 0
    let read2 = c.readNoise * c.readNoise
    let photon = c.photonGain
    for ch in 0..<ws.channels {
      let gain = c.gain[ch]
      let offset = c.offset[ch]
      let plane = ws.plane(ch)
      let target = out + ch * area
      if noisy {
        for i in 0..<area {
          let signal = max(0, gain * vignette[i] * plane[i])
          let value = offset + signal + (photon * signal + read2).squareRoot() * fastNormal(&rng)
          target[i] = UInt16(min(65535, max(0, value + 0.5)))
        }
      } else {
        for i in 0..<area {
          let value = offset + max(0, gain * vignette[i] * plane[i])
          target[i] = UInt16(min(65535, max(0, value + 0.5)))
        }
      }
    }
  }

  /// A unit-variance near-Gaussian variate from one 64-bit draw: the sum of four 16-bit
  /// uniforms (Irwin–Hall, n = 4), centred and scaled; its tails stop at ±3.46.
  @inline(__always)
  static func fastNormal(_ rng: inout RandomGenerator) -> Float {
    let r = rng.next()
    let a =
      Float(r & 0xFFFF) + Float((r >> 16) & 0xFFFF) + Float((r >> 32) & 0xFFFF)
      + Float(r >> 48)
    return (a * (1 / 65536) - 2) * 1.7320508
  }

  /// Normalised Gaussian weights over offsets -r…r, r = ⌈3σ⌉.
  static func gaussianKernel(_ sigma: Float) -> [Float] {
    let r = max(1, Int((3 * sigma).rounded(.up)))
    var k = (-r...r).map { Foundation.exp(-Float($0 * $0) / (2 * sigma * sigma)) }
    let total = k.reduce(0, +)
    for i in k.indices { k[i] /= total }
    return k
  }

  /// Separable Gaussian blur of a `s × s` plane in place, replicating edge pixels.
  static func blur(
    _ p: UnsafeMutablePointer<Float>, _ tmp: UnsafeMutablePointer<Float>, _ s: Int, _ k: [Float]
  ) {
    let r = k.count / 2
    k.withUnsafeBufferPointer { w in
      func clampedSum(_ row: UnsafeMutablePointer<Float>, _ x: Int) -> Float {
        var acc: Float = 0
        for j in 0..<w.count { acc += w[j] * row[min(s - 1, max(0, x + j - r))] }
        return acc
      }
      // Rows into tmp: interior pixels as weighted sums of shifted rows (vectorisable), the
      // r pixels at each end with clamped indices.
      for y in 0..<s {
        let row = p + y * s
        let dst = tmp + y * s
        let lo = min(r, s)
        let hi = max(lo, s - r)
        for x in lo..<hi { dst[x] = 0 }
        for j in 0..<w.count {
          let wj = w[j]
          let shifted = row + (j - r)
          for x in lo..<hi { dst[x] += wj * shifted[x] }
        }
        for x in 0..<lo { dst[x] = clampedSum(row, x) }
        for x in hi..<s { dst[x] = clampedSum(row, x) }
      }
      // Columns back into p, a whole row of sums at a time.
      for y in 0..<s {
        let dst = p + y * s
        let first = tmp + min(s - 1, max(0, y - r)) * s
        for x in 0..<s { dst[x] = w[0] * first[x] }
        for j in 1..<w.count {
          let src = tmp + min(s - 1, max(0, y + j - r)) * s
          let wj = w[j]
          for x in 0..<s { dst[x] += wj * src[x] }
        }
      }
    }
  }
}
