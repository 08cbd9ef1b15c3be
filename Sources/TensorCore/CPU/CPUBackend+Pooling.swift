import GrapeSupport
extension CPUBackend {
  public func avgPool2x2(_ x: Storage, planes: Int, height: Int, width: Int, scale: Float, into y: Storage) {
    let ho = height / 2
    let wo = width / 2
    let xp = UnsafePointer(x.pointer)
    let yp = y.pointer
    let f = 0.25 * scale
    Parallel.forEach(planes, costPerItem: height * width) { range in
      for pl in range {
        let src = xp + pl * height * width
        let dst = yp + pl * ho * wo
        for oy in 0..<ho {
          let r0 = src + 2 * oy * width
          let r1 = r0 + width
          let d = dst + oy * wo
          for ox in 0..<wo {
            d[ox] = f * (r0[2 * ox] + r0[2 * ox + 1] + r1[2 * ox] + r1[2 * ox + 1])
          }
        }
      }
    }
  }

  public func upsample2x(_ x: Storage, planes: Int, height: Int, width: Int, scale: Float, into y: Storage) {
    let wo = width * 2
    let xp = UnsafePointer(x.pointer)
    let yp = y.pointer
    Parallel.forEach(planes, costPerItem: 4 * height * width) { range in
      for pl in range {
        let src = xp + pl * height * width
        let dst = yp + pl * 4 * height * width
        for iy in 0..<height {
          let s = src + iy * width
          let d0 = dst + 2 * iy * wo
          for ix in 0..<width {
            let v = scale * s[ix]
            d0[2 * ix] = v
            d0[2 * ix + 1] = v
          }
          (d0 + wo).update(from: d0, count: wo)
        }
      }
    }
  }
}

extension CPUBackend {
  public func planeNormalize(_ x: Storage, planes: Int, size: Int, eps: Float, into y: Storage, rstd: Storage) {
    let xp = UnsafePointer(x.pointer), yp = y.pointer, rp = rstd.pointer
    Parallel.forEach(planes, costPerItem: 3 * size) { range in
      for pl in range {
        let src = xp + pl * size, dst = yp + pl * size
        let mean = sumContiguous(src, size) / Float(size)
        var sq: Float = 0
        for i in 0..<size {
          let d = src[i] - mean
          sq += d * d
        }
        let r = 1 / (sq / Float(size) + eps).squareRoot()
        rp[pl] = r
        for i in 0..<size { dst[i] = (src[i] - mean) * r }
      }
    }
  }

  public func planeNormalizeBackward(_ g: Storage, normalized: Storage, rstd: Storage, planes: Int, size: Int, into gx: Storage) {
    let gp = UnsafePointer(g.pointer), np = UnsafePointer(normalized.pointer), rp = UnsafePointer(rstd.pointer), op = gx.pointer
    Parallel.forEach(planes, costPerItem: 3 * size) { range in
      for pl in range {
        let gr = gp + pl * size, nr = np + pl * size, out = op + pl * size
        var sg: Float = 0, sgn: Float = 0
        for i in 0..<size {
          sg += gr[i]
          sgn += gr[i] * nr[i]
        }
        let mg = sg / Float(size), mgn = sgn / Float(size), r = rp[pl]
        for i in 0..<size { out[i] = r * (gr[i] - mg - nr[i] * mgn) }
      }
    }
  }
}
