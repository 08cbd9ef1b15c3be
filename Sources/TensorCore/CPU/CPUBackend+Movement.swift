import GrapeSupport
extension CPUBackend {
  public func permute(_ x: Storage, _ shape: [Int], _ perm: [Int], into out: Storage) {
    // Drop size-1 axes and merge axes that stay adjacent, then copy with an odometer over all
    // but the last output axis.
    let inStrides = contiguousStrides(shape)
    var dims: [Int] = []
    var strides: [Int] = []  // input stride of each output axis
    for p in perm where shape[p] != 1 {
      if let ld = dims.last, let ls = strides.last, ls == inStrides[p] * shape[p] {
        dims[dims.count - 1] = ld * shape[p]
        strides[strides.count - 1] = inStrides[p]
      } else {
        dims.append(shape[p])
        strides.append(inStrides[p])
      }
    }
    let xp = UnsafePointer(x.pointer)
    let yp = out.pointer
    if dims.count <= 1 {
      yp.update(from: xp, count: out.count)
      return
    }
    if dims.count == 2 {
      transpose2D(xp, rows: dims[1], cols: dims[0], yp)  // input is [dims[1], dims[0]]
      return
    }
    let inner = dims[dims.count - 1]
    let innerStride = strides[strides.count - 1]
    let rows = out.count / inner
    let outerDims = Array(dims.dropLast())
    let outerStrides = Array(strides.dropLast())
    Parallel.forEach(rows, costPerItem: inner) { range in
      for row in range {
        var rem = row
        var off = 0
        for i in stride(from: outerDims.count - 1, through: 0, by: -1) {
          off += (rem % outerDims[i]) * outerStrides[i]
          rem /= outerDims[i]
        }
        let dst = yp + row * inner
        if innerStride == 1 {
          dst.update(from: xp + off, count: inner)
        } else {
          for j in 0..<inner { dst[j] = xp[off + j * innerStride] }
        }
      }
    }
  }

  public func copyAxisRange(
    _ x: Storage, outer: Int, srcAxis: Int, srcStart: Int, inner: Int,
    into out: Storage, dstAxis: Int, dstStart: Int, length: Int
  ) {
    let xp = UnsafePointer(x.pointer)
    let yp = out.pointer
    let block = length * inner
    Parallel.forEach(outer, costPerItem: block) { range in
      for o in range {
        (yp + (o * dstAxis + dstStart) * inner).update(
          from: xp + (o * srcAxis + srcStart) * inner, count: block)
      }
    }
  }

  public func gatherRows(_ x: Storage, rowSize: Int, indices: [Int], into out: Storage) {
    let xp = UnsafePointer(x.pointer)
    let yp = out.pointer
    for (i, j) in indices.enumerated() {
      (yp + i * rowSize).update(from: xp + j * rowSize, count: rowSize)
    }
  }

  public func scatterAddRows(_ g: Storage, rowSize: Int, indices: [Int], into out: Storage) {
    let gp = UnsafePointer(g.pointer)
    let yp = out.pointer
    for (i, j) in indices.enumerated() {
      let dst = yp + j * rowSize
      let src = gp + i * rowSize
      for k in 0..<rowSize { dst[k] += src[k] }
    }
  }
}

/// y: [cols, rows] = transpose of x: [rows, cols], in cache-sized tiles.
func transpose2D(_ x: UnsafePointer<Float>, rows: Int, cols: Int, _ y: UnsafeMutablePointer<Float>) {
  let tile = 32
  let rowTiles = (rows + tile - 1) / tile
  Parallel.forEach(rowTiles, costPerItem: tile * cols) { range in
    for rt in range {
      let r0 = rt * tile
      let r1 = Swift.min(r0 + tile, rows)
      var c0 = 0
      while c0 < cols {
        let c1 = Swift.min(c0 + tile, cols)
        for r in r0..<r1 {
          for c in c0..<c1 { y[c * rows + r] = x[r * cols + c] }
        }
        c0 = c1
      }
    }
  }
}
