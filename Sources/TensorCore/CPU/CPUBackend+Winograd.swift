import GrapeSupport
/// Winograd F(2×2, 3×3) convolution (Lavin and Gray, "Fast Algorithms for Convolutional Neural
/// Networks", CVPR 2016) for 3×3, stride-1, padding-1 convolutions of even-sized maps.
///
/// Each 2×2 output tile comes from a 4×4 input tile d and the 3×3 kernel g as
/// ```
/// Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
/// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
/// Aᵀ = [1 1 1 0; 0 1 −1 −1]
/// ```
/// Over channels the element-wise product becomes 16 GEMMs, one per tile position ξ:
/// M[ξ] [O, T] = U[ξ] [O, C] · V[ξ] [C, T] with T = N·(H/2)·(W/2) tiles, which is 2.25× fewer
/// multiply–adds than the direct (im2col) convolution, and the input is expanded 4× instead of
/// im2col's 9×. The stride-1 input gradient is a convolution of the same kind (flipped kernel),
/// so it takes this route too.
extension CPUBackend {
  /// Whether ``conv2d(_:_:_:into:)`` runs `g` through ``winogradConv2d(_:_:_:into:)``.
  static func usesWinograd(_ g: Conv2dGeometry) -> Bool {
    g.kernelH == 3 && g.kernelW == 3 && g.stride == 1 && g.padding == 1 && g.height % 2 == 0
      && g.width % 2 == 0 && g.inChannels >= 8
  }

  /// y = conv(x, w) by Winograd F(2×2, 3×3); needs ``usesWinograd(_:)``.
  func winogradConv2d(_ x: Storage, _ w: Storage, _ g: Conv2dGeometry, into y: Storage) {
    precondition(CPUBackend.usesWinograd(g), "winogradConv2d: unsupported geometry \(g)")
    let (c, o) = (g.inChannels, g.outChannels)
    let t = g.batch * (g.height / 2) * (g.width / 2)
    let u = Storage(uninitializedCount: 16 * o * c)
    let v = Storage(uninitializedCount: 16 * c * t)
    let m = Storage(uninitializedCount: 16 * o * t)
    winogradWeights(UnsafePointer(w.pointer), o: o, c: c, u.pointer)
    winogradInput(UnsafePointer(x.pointer), g, v.pointer)
    BLASThreads.ensureSingleThreaded()
    FlopCounter.add(Int(g.flops))  // counted as the direct convolution, comparable with other counts
    let (up, vp, mp) = (UnsafePointer(u.pointer), UnsafePointer(v.pointer), m.pointer)
    Parallel.forEach(16, costPerItem: Parallel.grain) { range in
      for xi in range {
        gemmBlock(false, false, o, t, c, 1, up + xi * o * c, c, vp + xi * c * t, t, 0, mp + xi * o * t, t)
      }
    }
    winogradOutput(UnsafePointer(m.pointer), g, y.pointer)
  }
}

/// U[ξ, o, c] = (G g Gᵀ)[ξ] for each 3×3 kernel g = w[o, c].
private func winogradWeights(_ w: UnsafePointer<Float>, o: Int, c: Int, _ u: UnsafeMutablePointer<Float>) {
  let plane = o * c
  let c8 = c - c % 8
  Parallel.forEach(o, costPerItem: 32 * c) { range in
    for oc in range {
      // Eight input channels at a time: the 16 results go to 16 contiguous runs of 8.
      for ic in stride(from: 0, to: c8, by: 8) {
        let k = w + (oc * c + ic) * 9
        @inline(__always) func tap(_ e: Int) -> SIMD8<Float> {
          SIMD8(k[e], k[9 + e], k[18 + e], k[27 + e], k[36 + e], k[45 + e], k[54 + e], k[63 + e])
        }
        let k0 = Quad(tap(0), tap(1), tap(2), SIMD8())
        let k1 = Quad(tap(3), tap(4), tap(5), SIMD8())
        let k2 = Quad(tap(6), tap(7), tap(8), SIMD8())
        let half: Float = 0.5
        let dst = u + oc * c + ic
        @inline(__always) func put(_ r: Int, _ a: Quad<SIMD8<Float>>) {
          store8(a.x0, dst + (4 * r) * plane)
          store8(half * (a.x0 + a.x1 + a.x2), dst + (4 * r + 1) * plane)
          store8(half * (a.x0 - a.x1 + a.x2), dst + (4 * r + 2) * plane)
          store8(a.x2, dst + (4 * r + 3) * plane)
        }
        put(0, k0)
        put(1, half * (k0 + k1 + k2))
        put(2, half * (k0 - k1 + k2))
        put(3, k2)
      }
      for ic in c8..<c {
        let k = w + (oc * c + ic) * 9
        // G g, rows of the kernel combined (the fourth lane unused).
        let k0 = SIMD4(k[0], k[1], k[2], 0)
        let k1 = SIMD4(k[3], k[4], k[5], 0)
        let k2 = SIMD4(k[6], k[7], k[8], 0)
        let rows = (k0, 0.5 * (k0 + k1 + k2), 0.5 * (k0 - k1 + k2), k2)
        // (G g) Gᵀ, columns combined, written to the 16 planes.
        let dst = u + oc * c + ic
        @inline(__always) func put(_ r: Int, _ a: SIMD4<Float>) {
          dst[(4 * r) * plane] = a[0]
          dst[(4 * r + 1) * plane] = 0.5 * (a[0] + a[1] + a[2])
          dst[(4 * r + 2) * plane] = 0.5 * (a[0] - a[1] + a[2])
          dst[(4 * r + 3) * plane] = a[2]
        }
        put(0, rows.0)
        put(1, rows.1)
        put(2, rows.2)
        put(3, rows.3)
      }
    }
  }
}

/// V[ξ, c, t] = (Bᵀ d B)[ξ] for the 4×4 input tile d of tile t = (n·H/2 + ty)·W/2 + tx, which
/// starts at (2ty − 1, 2tx − 1); pixels outside the map are zero.
private func winogradInput(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, _ v: UnsafeMutablePointer<Float>) {
  let (h, w, c) = (g.height, g.width, g.inChannels)
  let (th, tw) = (h / 2, w / 2)
  let t = g.batch * th * tw
  let pw = w + 2
  let plane = c * t
  Parallel.forEach(c, costPerItem: 8 * g.batch * h * w) { range in
    // One zero-bordered copy of the plane, so every tile loads without bounds checks (the slack
    // at the end lets the vector loads of the last row read past its valid pixels).
    let paddedCount = (h + 2) * pw + 16
    let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedCount)
    defer { padded.deallocate() }
    padded.update(repeating: 0, count: paddedCount)
    for ic in range {
      for n in 0..<g.batch {
        let src = x + (n * c + ic) * h * w
        for iy in 0..<h { copyFloats(src + iy * w, padded + (iy + 1) * pw + 1, w) }
        let base = v + ic * t + n * th * tw
        // Bᵀ d B of one tile row r of `lanes` tiles at once: Bᵀ combines the rows, B the columns.
        @inline(__always) func put<V: SIMD>(_ out: UnsafeMutablePointer<Float>, _ d: (Quad<V>, Quad<V>, Quad<V>, Quad<V>)) where V.Scalar == Float {
          @inline(__always) func row(_ r: Int, _ a: Quad<V>) {
            let o = out + 4 * r * plane
            store(a.x0 - a.x2, o)
            store(a.x1 + a.x2, o + plane)
            store(a.x2 - a.x1, o + 2 * plane)
            store(a.x1 - a.x3, o + 3 * plane)
          }
          row(0, d.0 - d.2)
          row(1, d.1 + d.2)
          row(2, d.2 - d.1)
          row(3, d.1 - d.3)
        }
        if tw % 8 == 0 {
          // Eight tiles of a tile row at once: even and odd columns of 16 (and 16 shifted by 2)
          // consecutive pixels are the tiles' columns 0…3.
          for ty in 0..<th {
            for tx in stride(from: 0, to: tw, by: 8) {
              let d = padded + 2 * ty * pw + 2 * tx
              @inline(__always) func row(_ r: Int) -> Quad<SIMD8<Float>> {
                let a = load16(d + r * pw)
                let b = load16(d + r * pw + 2)
                return Quad(a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
              }
              put(base + ty * tw + tx, (row(0), row(1), row(2), row(3)))
            }
          }
        } else if tw % 4 == 0 {
          // Four tiles of a tile row at once (8-pixel-wide maps and other multiples of 8).
          for ty in 0..<th {
            for tx in stride(from: 0, to: tw, by: 4) {
              let d = padded + 2 * ty * pw + 2 * tx
              @inline(__always) func row(_ r: Int) -> Quad<SIMD4<Float>> {
                let a = load8(d + r * pw)
                let b = load8(d + r * pw + 2)
                return Quad(a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
              }
              put(base + ty * tw + tx, (row(0), row(1), row(2), row(3)))
            }
          }
        } else if tw == 2 && th % 2 == 0 {
          // 4-pixel-wide maps: the four tiles of two tile rows (consecutive in t) at once, the
          // upper pair from pixel rows r, the lower pair from rows r + 2.
          for ty in stride(from: 0, to: th, by: 2) {
            let d = padded + 2 * ty * pw
            @inline(__always) func row(_ r: Int) -> Quad<SIMD4<Float>> {
              let (a, b) = (load8(d + r * pw), load8(d + r * pw + 2))
              let (c, e) = (load8(d + (r + 2) * pw), load8(d + (r + 2) * pw + 2))
              return Quad(
                SIMD4(lowHalf: a.evenHalf.lowHalf, highHalf: c.evenHalf.lowHalf), SIMD4(lowHalf: a.oddHalf.lowHalf, highHalf: c.oddHalf.lowHalf),
                SIMD4(lowHalf: b.evenHalf.lowHalf, highHalf: e.evenHalf.lowHalf), SIMD4(lowHalf: b.oddHalf.lowHalf, highHalf: e.oddHalf.lowHalf))
            }
            put(base + ty * tw, (row(0), row(1), row(2), row(3)))
          }
        } else {
          for ty in 0..<th {
            for tx in 0..<tw {
              let d = padded + 2 * ty * pw + 2 * tx
              @inline(__always) func row(_ r: Int) -> Quad<SIMD1> {
                let p = d + r * pw
                return Quad(SIMD1(p[0]), SIMD1(p[1]), SIMD1(p[2]), SIMD1(p[3]))
              }
              put(base + ty * tw + tx, (row(0), row(1), row(2), row(3)))
            }
          }
        }
      }
    }
  }
}

/// y[n, o, 2ty + i, 2tx + j] = (Aᵀ M A)[i, j] with M[ξ] = m[ξ, o, t] for tile t.
private func winogradOutput(_ m: UnsafePointer<Float>, _ g: Conv2dGeometry, _ y: UnsafeMutablePointer<Float>) {
  let (h, w, o) = (g.height, g.width, g.outChannels)
  let (th, tw) = (h / 2, w / 2)
  let t = g.batch * th * tw
  let plane = o * t
  Parallel.forEach(o, costPerItem: 8 * g.batch * h * w) { range in
    for oc in range {
      for n in 0..<g.batch {
        let dst = y + (n * o + oc) * h * w
        let src = m + oc * t + n * th * tw
        // Aᵀ M A of `lanes` tiles starting at tile s: the two output rows, each as the tiles'
        // even (first) and odd (second) pixels.
        @inline(__always) func tiles<V: SIMD>(_ s: UnsafePointer<Float>, _: V.Type) -> (even0: V, odd0: V, even1: V, odd1: V) where V.Scalar == Float {
          @inline(__always) func row(_ r: Int) -> Quad<V> {
            Quad(load(s + 4 * r * plane), load(s + (4 * r + 1) * plane), load(s + (4 * r + 2) * plane), load(s + (4 * r + 3) * plane))
          }
          let (m0, m1, m2, m3) = (row(0), row(1), row(2), row(3))
          let q0 = m0 + m1 + m2
          let q1 = m1 - m2 - m3
          return (q0.x0 + q0.x1 + q0.x2, q0.x1 - q0.x2 - q0.x3, q1.x0 + q1.x1 + q1.x2, q1.x1 - q1.x2 - q1.x3)
        }
        if tw % 8 == 0 {
          for ty in 0..<th {
            for tx in stride(from: 0, to: tw, by: 8) {
              let r = tiles(src + ty * tw + tx, SIMD8<Float>.self)
              let out = dst + 2 * ty * w + 2 * tx
              storeInterleaved(r.even0, r.odd0, out)
              storeInterleaved(r.even1, r.odd1, out + w)
            }
          }
        } else if tw % 4 == 0 {
          for ty in 0..<th {
            for tx in stride(from: 0, to: tw, by: 4) {
              let r = tiles(src + ty * tw + tx, SIMD4<Float>.self)
              let out = dst + 2 * ty * w + 2 * tx
              storeInterleaved(r.even0, r.odd0, out)
              storeInterleaved(r.even1, r.odd1, out + w)
            }
          }
        } else if tw == 2 && th % 2 == 0 {
          // Two tile rows at once (as the input transform): lanes 0–1 are the upper tiles,
          // lanes 2–3 the lower ones, so each interleaved half is one 4-pixel output row.
          for ty in stride(from: 0, to: th, by: 2) {
            let r = tiles(src + ty * tw, SIMD4<Float>.self)
            var y0 = SIMD8<Float>()
            (y0.evenHalf, y0.oddHalf) = (r.even0, r.odd0)
            var y1 = SIMD8<Float>()
            (y1.evenHalf, y1.oddHalf) = (r.even1, r.odd1)
            let out = dst + 2 * ty * w
            store(y0.lowHalf, out)
            store(y1.lowHalf, out + w)
            store(y0.highHalf, out + 2 * w)
            store(y1.highHalf, out + 3 * w)
          }
        } else {
          for ty in 0..<th {
            for tx in 0..<tw {
              let r = tiles(src + ty * tw + tx, SIMD1.self)
              let out = dst + 2 * ty * w + 2 * tx
              (out[0], out[1], out[w], out[w + 1]) = (r.even0.value, r.odd0.value, r.even1.value, r.odd1.value)
            }
          }
        }
      }
    }
  }
}

/// Four columns (or rows) of a tile transform, each a vector over several tiles or channels.
private struct Quad<V: SIMD> where V.Scalar == Float {
  var x0, x1, x2, x3: V

  @inline(__always) init(_ x0: V, _ x1: V, _ x2: V, _ x3: V) {
    (self.x0, self.x1, self.x2, self.x3) = (x0, x1, x2, x3)
  }

  @inline(__always) static func + (a: Quad, b: Quad) -> Quad { Quad(a.x0 + b.x0, a.x1 + b.x1, a.x2 + b.x2, a.x3 + b.x3) }
  @inline(__always) static func - (a: Quad, b: Quad) -> Quad { Quad(a.x0 - b.x0, a.x1 - b.x1, a.x2 - b.x2, a.x3 - b.x3) }
  @inline(__always) static func * (s: Float, a: Quad) -> Quad { Quad(s * a.x0, s * a.x1, s * a.x2, s * a.x3) }
}

/// A one-lane "vector", so that the scalar tile paths share the vector code.
private struct SIMD1: SIMD {
  typealias Scalar = Float
  typealias MaskStorage = SIMD1Mask
  var value: Float
  init() { value = 0 }
  init(_ value: Float) { self.value = value }
  var scalarCount: Int { 1 }
  subscript(index: Int) -> Float {
    get { value }
    set { value = newValue }
  }
}

/// The mask type ``SIMD1`` needs to conform to `SIMD`.
private struct SIMD1Mask: SIMD {
  typealias Scalar = Int32
  typealias MaskStorage = SIMD1Mask
  var value: Int32 = 0
  init() {}
  var scalarCount: Int { 1 }
  subscript(index: Int) -> Int32 {
    get { value }
    set { value = newValue }
  }
}

@inline(__always) private func load<V: SIMD>(_ p: UnsafePointer<Float>) -> V where V.Scalar == Float {
  UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always) private func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

@inline(__always) private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { load(p) }

@inline(__always) private func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { load(UnsafePointer(p)) }

@inline(__always) private func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> { load(UnsafePointer(p)) }

@inline(__always) private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { store(v, p) }

/// Stores the 16 pixels e0 o0 e1 o1 … of even pixels `even` and odd pixels `odd`.
@inline(__always) private func storeInterleaved(_ even: SIMD8<Float>, _ odd: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
  var v = SIMD16<Float>()
  (v.evenHalf, v.oddHalf) = (even, odd)
  store(v, p)
}

/// Stores the 8 pixels e0 o0 e1 o1 … of even pixels `even` and odd pixels `odd`.
@inline(__always) private func storeInterleaved(_ even: SIMD4<Float>, _ odd: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
  var v = SIMD8<Float>()
  (v.evenHalf, v.oddHalf) = (even, odd)
  store(v, p)
}
