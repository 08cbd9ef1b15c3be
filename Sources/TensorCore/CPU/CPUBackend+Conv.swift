/// Convolution by im2col and one large GEMM per chunk of images.
///
/// The column matrix of a chunk of `nb` images is [C·kh·kw, nb·P] (P = output pixels), so small
/// feature maps still give the GEMM at least ~1,024 columns. The GEMM result [O, nb·P] is then
/// permuted to [nb, O, P]; a chunk of one image writes the output directly.
extension CPUBackend {
  public func conv2d(_ x: Storage, _ w: Storage, _ g: Conv2dGeometry, into y: Storage) {
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
    if g.stride == 1 && g.padding <= min(g.kernelH, g.kernelW) - 1 && !isPointwise(g) {
      // A stride-1 convolution's input gradient is the full convolution of gy with the
      // spatially flipped, channel-transposed kernel: an im2col gather and one GEMM instead of
      // a GEMM and a col2im scatter.
      let flipped = Storage(uninitializedCount: w.count)
      flipTranspose(w.pointer, g, flipped.pointer)
      let t = Conv2dGeometry(
        batch: g.batch, inChannels: g.outChannels, height: g.outHeight, width: g.outWidth, outChannels: g.inChannels,
        kernelH: g.kernelH, kernelW: g.kernelW, stride: 1, padding: g.kernelH - 1 - g.padding)
      if g.kernelH == g.kernelW && t.outHeight == g.height && t.outWidth == g.width {
        conv2d(gy, flipped, t, into: gx)
        return
      }
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

/// wt[c, o, i, j] = w[o, c, kh−1−i, kw−1−j].
private func flipTranspose(_ w: UnsafeMutablePointer<Float>, _ g: Conv2dGeometry, _ wt: UnsafeMutablePointer<Float>) {
  let (o, c, kh, kw) = (g.outChannels, g.inChannels, g.kernelH, g.kernelW)
  for oc in 0..<o {
    for ic in 0..<c {
      let src = w + (oc * c + ic) * kh * kw
      let dst = wt + (ic * o + oc) * kh * kw
      for i in 0..<kh { for j in 0..<kw { dst[i * kw + j] = src[(kh - 1 - i) * kw + (kw - 1 - j)] } }
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
private func im2col(_ x: UnsafeMutablePointer<Float>, _ g: Conv2dGeometry, nb: Int, _ col: UnsafeMutablePointer<Float>) {
  let h = g.height, w = g.width, ho = g.outHeight, wo = g.outWidth
  let kh = g.kernelH, kw = g.kernelW, s = g.stride, pad = g.padding
  let p = ho * wo
  let rows = g.inChannels * kh * kw
  let cols = nb * p
  let xp = UnsafePointer(x)
  Parallel.forEach(rows, costPerItem: cols) { range in
    for r in range {
      let c = r / (kh * kw)
      let i = (r / kw) % kh
      let j = r % kw
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
          let srow = src + iy * w
          if s == 1 {
            // ix = ox − pad + j is inside [0, w) for ox in [lo, hi).
            let lo = Swift.max(0, pad - j)
            let hi = Swift.min(wo, w + pad - j)
            let src = srow - pad + j
            if wo <= 32 {
              // Short rows: a plain loop beats a library call per row.
              for ox in 0..<wo { row[ox] = (ox >= lo && ox < hi) ? src[ox] : 0 }
            } else {
              if lo > 0 { row.update(repeating: 0, count: Swift.min(lo, wo)) }
              if hi > lo { (row + lo).update(from: src + lo, count: hi - lo) }
              if hi < wo { (row + Swift.max(hi, 0)).update(repeating: 0, count: wo - Swift.max(hi, 0)) }
            }
          } else {
            for ox in 0..<wo {
              let ix = ox * s - pad + j
              row[ox] = (ix >= 0 && ix < w) ? srow[ix] : 0
            }
          }
        }
      }
    }
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
