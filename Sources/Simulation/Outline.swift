import Foundation
import OPSData
import GrapeSupport

/// A smooth closed outline: an ellipse whose radius is modulated by Fourier harmonics 2…8.
///
/// In the ellipse's own frame a point at normalised radius ρ and angle φ lies inside when
/// `ρ < 1 + Σₖ (αₖ cos kφ + βₖ sin kφ)`. The harmonics are evaluated from `cos φ`, `sin φ` by
/// complex powers, so no trigonometric call is made per pixel.
struct Outline: Sendable {
  /// Centre in pixels (x to the right, y down).
  var cx: Float
  var cy: Float
  /// Orientation of the `a` axis.
  var cosT: Float
  var sinT: Float
  /// Semi-axes in pixels.
  var a: Float
  var b: Float
  /// Harmonic coefficients for k = 2…8.
  var alpha: SIMD8<Float>
  var beta: SIMD8<Float>

  /// Number of harmonics used (k = 2…8).
  static let harmonics = 7

  /// An outline of mean radius `radius`, axis ratio `ratio` (≥ 1), orientation `angle`, and
  /// harmonics of relative amplitude `irregularity` (amplitude of order k ∝ k^-1.4).
  init(
    cx: Float, cy: Float, radius: Float, ratio: Float, angle: Float, irregularity: Float,
    rng: inout RandomGenerator
  ) {
    self.cx = cx
    self.cy = cy
    cosT = Foundation.cos(angle)
    sinT = Foundation.sin(angle)
    let r = max(ratio, 1).squareRoot()
    a = radius * r
    b = radius / r
    var al = SIMD8<Float>(repeating: 0)
    var be = SIMD8<Float>(repeating: 0)
    for k in 0..<Self.harmonics {
      let amp = irregularity * Foundation.pow(Float(k + 2), -1.4) * 2
      al[k] = amp * Float(rng.normal())
      be[k] = amp * Float(rng.normal())
    }
    alpha = al
    beta = be
  }

  /// Largest distance from the centre to the outline, in pixels (a bound).
  var reach: Float {
    var s: Float = 0
    for k in 0..<Self.harmonics { s += abs(alpha[k]) + abs(beta[k]) }
    return max(a, b) * (1 + s)
  }

  /// Normalised radius `rho`, outline radius `edge` in the same units, and signed distance to the
  /// outline in pixels (positive inside), for the point (x, y).
  @inline(__always)
  func evaluate(_ x: Float, _ y: Float) -> (rho: Float, edge: Float, distance: Float) {
    let dx = x - cx
    let dy = y - cy
    let u = (dx * cosT + dy * sinT) / a
    let v = (dy * cosT - dx * sinT) / b
    let r2 = u * u + v * v
    var c: Float = 1
    var s: Float = 0
    var rho: Float = 0
    if r2 > 1e-12 {
      rho = r2.squareRoot()
      c = u / rho
      s = v / rho
    }
    // z = e^{iφ}; zk = z^k starting at k = 2.
    var zr = c * c - s * s
    var zi = 2 * c * s
    var edge: Float = 1
    for k in 0..<Self.harmonics {
      edge += alpha[k] * zr + beta[k] * zi
      let nr = zr * c - zi * s
      zi = zr * s + zi * c
      zr = nr
    }
    let ca = c * a
    let sb = s * b
    let scale = (ca * ca + sb * sb).squareRoot()
    return (rho, edge, (edge - rho) * scale)
  }

  /// Whether (x, y) lies at least `margin` pixels inside the outline.
  @inline(__always)
  func contains(_ x: Float, _ y: Float, margin: Float = 0) -> Bool {
    evaluate(x, y).distance > margin
  }

  /// A point drawn uniformly from the ellipse shrunk by `shrink` (harmonics ignored).
  func randomInterior(_ rng: inout RandomGenerator, shrink: Float) -> (Float, Float) {
    var u: Float
    var v: Float
    repeat {
      u = 2 * rng.uniformFloat() - 1
      v = 2 * rng.uniformFloat() - 1
    } while u * u + v * v > 1
    let lx = u * a * shrink
    let ly = v * b * shrink
    return (cx + lx * cosT - ly * sinT, cy + lx * sinT + ly * cosT)
  }
}

/// Smooth value noise on a square grid: the chromatin texture of a nucleus.
///
/// Two octaves (8 × 8 and 16 × 16 grids of uniform values in [-1, 1], the finer at half
/// amplitude) are interpolated with smoothstep weights over a square of side `4 × radius`
/// centred on the nucleus; values are roughly in [-1, 1] with standard deviation ≈ 0.35.
struct ValueNoise: Sendable {
  var coarse: [Float]
  var fine: [Float]
  var originX: Float
  var originY: Float
  var invSpan: Float

  static let coarseN = 8
  static let fineN = 16

  init(cx: Float, cy: Float, radius: Float, rng: inout RandomGenerator) {
    coarse = (0..<(Self.coarseN * Self.coarseN)).map { _ in 2 * rng.uniformFloat() - 1 }
    fine = (0..<(Self.fineN * Self.fineN)).map { _ in 2 * rng.uniformFloat() - 1 }
    let span = 4 * max(radius, 1)
    originX = cx - span / 2
    originY = cy - span / 2
    invSpan = 1 / span
  }

  @inline(__always)
  private static func sample(_ grid: UnsafeBufferPointer<Float>, _ n: Int, _ gx: Float, _ gy: Float)
    -> Float
  {
    let fx = min(max(gx, 0), Float(n - 1) - 1e-3)
    let fy = min(max(gy, 0), Float(n - 1) - 1e-3)
    let ix = Int(fx)
    let iy = Int(fy)
    var tx = fx - Float(ix)
    var ty = fy - Float(iy)
    tx = tx * tx * (3 - 2 * tx)
    ty = ty * ty * (3 - 2 * ty)
    let i00 = grid[iy * n + ix]
    let i01 = grid[iy * n + ix + 1]
    let i10 = grid[(iy + 1) * n + ix]
    let i11 = grid[(iy + 1) * n + ix + 1]
    let top = i00 + (i01 - i00) * tx
    let bottom = i10 + (i11 - i10) * tx
    return top + (bottom - top) * ty
  }

  /// The noise value at pixel (x, y).
  @inline(__always)
  func value(
    _ x: Float, _ y: Float, coarse cg: UnsafeBufferPointer<Float>,
    fine fg: UnsafeBufferPointer<Float>
  )
    -> Float
  {
    let px = (x - originX) * invSpan
    let py = (y - originY) * invSpan
    let c = Self.sample(
      cg, Self.coarseN, px * Float(Self.coarseN - 1), py * Float(Self.coarseN - 1))
    let f = Self.sample(fg, Self.fineN, px * Float(Self.fineN - 1), py * Float(Self.fineN - 1))
    return c + 0.5 * f
  }
}
