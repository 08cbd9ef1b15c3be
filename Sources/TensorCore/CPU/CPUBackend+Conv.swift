import GrapeSupport
/// Convolution by im2col and one large GEMM per chunk of images (3×3 "same" convolutions of
/// even-sized maps go through Winograd F(2×2, 3×3) instead, see `CPUBackend+Winograd.swift`).
///
/// The column matrix of a chunk of `nb` images is [C·kh·kw, nb·P] (P = output pixels), so small
/// feature maps still give the GEMM at least ~1,024 columns. The GEMM result [O, nb·P] is then
/// permuted to [nb, O, P]; a chunk of one image writes the output directly.
extension CPUBackend {
  public func conv2d(_ x: Storage, _ w: Storage, _ g: Conv2dGeometry, into y: Storage) {
    if CPUBackend.usesWinograd(g) {
      winogradConv2d(x, w, g, into: y)
      return
    }
    conv2dByIm2col(x, w, g, into: y)
  }

  /// The forward convolution through im2col and GEMM (any geometry; the reference route).
  func conv2dByIm2col(_ x: Storage, _ w: Storage, _ g: Conv2dGeometry, into y: Storage) {
    let p = g.outHeight * g.outWidth
    let ckk = g.inChannels * g.kernelH * g.kernelW
    let o = g.outChannels
    for (n0, nb) in convChunks(g) {
      let (col, colOwner) = im2colBuffer(x, g, n0: n0, nb: nb)
      let dst = y.pointer + n0 * o * p
      if nb == 1 {
        sgemm(transA: false, transB: false, m: o, n: p, k: ckk, alpha: 1, w.pointer, col, beta: 0, dst)
      } else {
        let tmp = Storage(uninitializedCount: o * nb * p)
        sgemm(transA: false, transB: false, m: o, n: nb * p, k: ckk, alpha: 1, w.pointer, col, beta: 0, tmp.pointer)
        swapOuterAxes(tmp.pointer, a: o, b: nb, inner: p, dst)
      }
      withExtendedLifetime(colOwner) {}
    }
  }

  public func conv2dBackwardInput(_ gy: Storage, _ w: Storage, _ g: Conv2dGeometry, into gx: Storage) {
    if g.stride == 1 && g.kernelH == g.kernelW && g.outHeight == g.height && g.outWidth == g.width && !isPointwise(g) {
      // A stride-1 convolution's input gradient is the full convolution of gy with the
      // spatially flipped, channel-transposed kernel: an im2col gather and one GEMM instead of
      // a GEMM and a col2im scatter. Only for "same" convolutions: where the output is smaller
      // than the input (a k×k head on k×k maps), the full convolution would multiply mostly
      // padding zeros (16× the work for 4×4), so col2im is cheaper there.
      let flipped = Storage(uninitializedCount: w.count)
      flipTranspose(w.pointer, g, flipped.pointer)
      let t = Conv2dGeometry(
        batch: g.batch, inChannels: g.outChannels, height: g.outHeight, width: g.outWidth, outChannels: g.inChannels,
        kernelH: g.kernelH, kernelW: g.kernelW, stride: 1, padding: g.kernelH - 1 - g.padding)
      conv2d(gy, flipped, t, into: gx)
      return
    }
    conv2dBackwardInputByCol2im(gy, w, g, into: gx)
  }

  /// The input gradient through a transposed GEMM and col2im (any stride and padding).
  func conv2dBackwardInputByCol2im(_ gy: Storage, _ w: Storage, _ g: Conv2dGeometry, into gx: Storage) {
    let p = g.outHeight * g.outWidth
    let ckk = g.inChannels * g.kernelH * g.kernelW
    let o = g.outChannels
    let planeIn = g.inChannels * g.height * g.width
    for (n0, nb) in convChunks(g) {
      let gyChunk = gy.pointer + n0 * o * p
      var gyT = UnsafeMutablePointer(mutating: gyChunk)
      var tmp: Storage? = nil
      if nb > 1 {
        let t = Storage(uninitializedCount: o * nb * p)
        swapOuterAxes(gyChunk, a: nb, b: o, inner: p, t.pointer)
        gyT = t.pointer
        tmp = t
      }
      let dst = gx.pointer + n0 * planeIn
      if isPointwise(g) && nb == 1 {
        // 1×1, stride 1, no padding: the column matrix is the input itself.
        sgemm(transA: true, transB: false, m: ckk, n: p, k: o, alpha: 1, w.pointer, gyT, beta: 0, dst)
      } else {
        let col = Storage(uninitializedCount: ckk * nb * p)
        sgemm(transA: true, transB: false, m: ckk, n: nb * p, k: o, alpha: 1, w.pointer, gyT, beta: 0, col.pointer)
        col2im(col.pointer, g, nb: nb, dst)
      }
      withExtendedLifetime(tmp) {}
    }
  }

  public func conv2dBackwardWeight(_ x: Storage, _ gy: Storage, _ g: Conv2dGeometry, into gw: Storage) {
    let p = g.outHeight * g.outWidth
    let ckk = g.inChannels * g.kernelH * g.kernelW
    let o = g.outChannels
    var first = true
    for (n0, nb) in convChunks(g) {
      let gyChunk = gy.pointer + n0 * o * p
      var gyT = UnsafeMutablePointer(mutating: gyChunk)
      var tmp: Storage? = nil
      if nb > 1 {
        let t = Storage(uninitializedCount: o * nb * p)
        swapOuterAxes(gyChunk, a: nb, b: o, inner: p, t.pointer)
        gyT = t.pointer
        tmp = t
      }
      let (col, colOwner) = im2colBuffer(x, g, n0: n0, nb: nb)
      sgemm(
        transA: false, transB: true, m: o, n: ckk, k: nb * p, alpha: 1, gyT, col,
        beta: first ? 0 : 1, gw.pointer)
      first = false
      withExtendedLifetime((colOwner, tmp)) {}
    }
    if first { gw.pointer.update(repeating: 0, count: gw.count) }
  }
}

private func isPointwise(_ g: Conv2dGeometry) -> Bool {
  g.kernelH == 1 && g.kernelW == 1 && g.stride == 1 && g.padding == 0
}

/// wt[c, o, i, j] = w[o, c, kh−1−i, kw−1−j], written in output order and split over cores by c.
private func flipTranspose(_ w: UnsafeMutablePointer<Float>, _ g: Conv2dGeometry, _ wt: UnsafeMutablePointer<Float>) {
  let (o, c, kk) = (g.outChannels, g.inChannels, g.kernelH * g.kernelW)
  let src = UnsafePointer(w)
  Parallel.forEach(c, costPerItem: o * kk) { range in
    for ic in range {
      for oc in 0..<o {
        let s = src + (oc * c + ic) * kk
        let d = wt + (ic * o + oc) * kk
        for q in 0..<kk { d[q] = s[kk - 1 - q] }
      }
    }
  }
}

/// Splits the batch into chunks whose column matrices have about 1,024 or more columns and at
/// most 32 Mi floats.
private func convChunks(_ g: Conv2dGeometry) -> [(Int, Int)] {
  let p = g.outHeight * g.outWidth
  let ckk = g.inChannels * g.kernelH * g.kernelW
  var nb = max(1, min(g.batch, (1024 + p - 1) / p))
  while nb > 1 && ckk * nb * p > 32 << 20 { nb /= 2 }
  if p >= 1024 { nb = 1 }
  var chunks: [(Int, Int)] = []
  var n0 = 0
  while n0 < g.batch {
    let b = min(nb, g.batch - n0)
    chunks.append((n0, b))
    n0 += b
  }
  return chunks
}

/// The column matrix [C·kh·kw, nb·P] of images n0 ..< n0+nb; for a 1×1 stride-1 unpadded
/// convolution of one image, the input itself.
/// The returned storage (nil when the input is used directly) owns the pointer's memory.
private func im2colBuffer(_ x: Storage, _ g: Conv2dGeometry, n0: Int, nb: Int) -> (UnsafeMutablePointer<Float>, Storage?) {
  let planeIn = g.inChannels * g.height * g.width
  if isPointwise(g) && nb == 1 { return (x.pointer + n0 * planeIn, nil) }
  let p = g.outHeight * g.outWidth
  let ckk = g.inChannels * g.kernelH * g.kernelW
  let col = Storage(uninitializedCount: ckk * nb * p)
  im2col(x.pointer + n0 * planeIn, g, nb: nb, col.pointer)
  return (col.pointer, col)
}

/// col[(c·kh + i)·kw + j, n·P + oy·Wo + ox] = x[n, c, oy·s − pad + i, ox·s − pad + j] (0 outside).
///
/// Stride-1 convolutions whose output has the input's size (3×3 with padding 1, 1×1) take
/// ``im2colSameSize``, which moves whole planes; everything else goes row by row.
func im2col(_ x: UnsafeMutablePointer<Float>, _ g: Conv2dGeometry, nb: Int, _ col: UnsafeMutablePointer<Float>) {
  if g.stride == 1 && g.outHeight == g.height && g.outWidth == g.width {
    im2colSameSize(UnsafePointer(x), g, nb: nb, col)
  } else {
    im2colRows(UnsafePointer(x), g, nb: nb, col)
  }
}

/// ``im2col`` for a stride-1 convolution with output size = input size.
///
/// Each row of the column matrix, restricted to one image, is the input plane shifted by
/// (i − pad, j − pad): one contiguous copy of the plane at that offset, zeros before and after
/// it, then zeros in the |j − pad| columns that wrapped around from the neighbouring row.
private func im2colSameSize(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, nb: Int, _ col: UnsafeMutablePointer<Float>) {
  let h = g.height, w = g.width, kh = g.kernelH, kw = g.kernelW, pad = g.padding
  let p = h * w
  let cols = nb * p
  Parallel.forEach(g.inChannels * kh * kw, costPerItem: cols) { range in
    for r in range {
      let c = r / (kh * kw)
      let dy = (r / kw) % kh - pad
      let dx = r % kw - pad
      let offset = dy * w + dx
      let lo = min(max(0, -offset), p)  // first q with a readable source q + offset
      let hi = max(min(p, p - offset), lo)
      for n in 0..<nb {
        let src = x + (n * g.inChannels + c) * p + offset
        let dst = col + r * cols + n * p
        dst.update(repeating: 0, count: lo)
        copyFloats(src + lo, dst + lo, hi - lo)
        (dst + hi).update(repeating: 0, count: p - hi)
        if dx < 0 {
          for oy in 0..<h { for ox in 0..<(-dx) { dst[oy * w + ox] = 0 } }
        } else if dx > 0 {
          for oy in 0..<h { for ox in (w - dx)..<w { dst[oy * w + ox] = 0 } }
        }
      }
    }
  }
}

/// ``im2col`` for any geometry, one output row at a time.
private func im2colRows(_ xp: UnsafePointer<Float>, _ g: Conv2dGeometry, nb: Int, _ col: UnsafeMutablePointer<Float>) {
  let h = g.height, w = g.width, ho = g.outHeight, wo = g.outWidth
  let kh = g.kernelH, kw = g.kernelW, s = g.stride, pad = g.padding
  let p = ho * wo
  let rows = g.inChannels * kh * kw
  let cols = nb * p
  Parallel.forEach(rows, costPerItem: cols) { range in
    for r in range {
      let c = r / (kh * kw)
      let i = (r / kw) % kh
      let j = r % kw
      // ix = ox·s − pad + j lies inside [0, w) for ox in [lo, hi).
      let lo = min(wo, max(0, (pad - j + s - 1) / s))
      let hi = max(lo, min(wo, (w + pad - j + s - 1) / s))
      for n in 0..<nb {
        let src = xp + (n * g.inChannels + c) * h * w
        let dst = col + r * cols + n * p
        for oy in 0..<ho {
          let iy = oy * s - pad + i
          let row = dst + oy * wo
          if iy < 0 || iy >= h {
            row.update(repeating: 0, count: wo)
            continue
          }
          let srow = src + iy * w - pad + j
          for ox in 0..<lo { row[ox] = 0 }
          if s == 1 {
            copyFloats(srow + lo, row + lo, hi - lo)
          } else {
            for ox in lo..<hi { row[ox] = srow[ox * s] }
          }
          for ox in hi..<wo { row[ox] = 0 }
        }
      }
    }
  }
}

/// dst[i] = src[i] for i < n: a plain loop for short runs (a library call per row of a 4×4 or
/// 8×8 map costs more than the copy), memmove for long ones.
@inline(__always)
func copyFloats(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
  if n >= 64 {
    dst.update(from: src, count: n)
  } else {
    for i in 0..<n { dst[i] = src[i] }
  }
}

/// The adjoint of im2col: x[n, c, iy, ix] = Σ col entries that read it. Overwrites x.
private func col2im(_ col: UnsafeMutablePointer<Float>, _ g: Conv2dGeometry, nb: Int, _ x: UnsafeMutablePointer<Float>) {
  let h = g.height, w = g.width, ho = g.outHeight, wo = g.outWidth
  let kh = g.kernelH, kw = g.kernelW, s = g.stride, pad = g.padding
  let p = ho * wo
  let cols = nb * p
  let colp = UnsafePointer(col)
  // Each channel's rows write only that channel's planes, so channels run in parallel.
  Parallel.forEach(g.inChannels, costPerItem: kh * kw * cols) { range in
    for c in range {
      for n in 0..<nb { (x + (n * g.inChannels + c) * h * w).update(repeating: 0, count: h * w) }
      for i in 0..<kh {
        for j in 0..<kw {
          let r = (c * kh + i) * kw + j
          for n in 0..<nb {
            let dst = x + (n * g.inChannels + c) * h * w
            let src = colp + r * cols + n * p
            for oy in 0..<ho {
              let iy = oy * s - pad + i
              if iy < 0 || iy >= h { continue }
              let drow = dst + iy * w
              let srow = src + oy * wo
              if s == 1 {
                let lo = Swift.max(0, pad - j)
                let hi = Swift.min(wo, w + pad - j)
                if hi > lo {
                  let d = drow + lo - pad + j
                  for ox in 0..<(hi - lo) { d[ox] += srow[lo + ox] }
                }
              } else {
                for ox in 0..<wo {
                  let ix = ox * s - pad + j
                  if ix >= 0 && ix < w { drow[ix] += srow[ox] }
                }
              }
            }
          }
        }
      }
    }
  }
}

/// y: [b, a, inner] = x: [a, b, inner] with the two outer axes swapped.
func swapOuterAxes(_ x: UnsafePointer<Float>, a: Int, b: Int, inner: Int, _ y: UnsafeMutablePointer<Float>) {
  Parallel.forEach(b, costPerItem: a * inner) { range in
    for j in range {
      for i in 0..<a {
        (y + (j * a + i) * inner).update(from: x + (i * b + j) * inner, count: inner)
      }
    }
  }
}

func swapOuterAxes(_ x: UnsafeMutablePointer<Float>, a: Int, b: Int, inner: Int, _ y: UnsafeMutablePointer<Float>) {
  swapOuterAxes(UnsafePointer(x), a: a, b: b, inner: inner, y)
}
