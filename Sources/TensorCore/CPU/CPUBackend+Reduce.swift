import GrapeSupport
extension CPUBackend {
  public func reduce(_ op: ReduceOp, _ x: Storage, _ shape: [Int], axes: [Int], into out: Storage) {
    // Collapse into alternating runs of kept and reduced axes (size-1 axes dropped).
    let axisSet = Set(axes)
    var runs: [(n: Int, reduced: Bool)] = []
    for (i, d) in shape.enumerated() where d != 1 {
      let r = axisSet.contains(i)
      if let last = runs.last, last.reduced == r {
        runs[runs.count - 1].n *= d
      } else {
        runs.append((d, r))
      }
    }
    guard runs.contains(where: \.reduced) else {
      out.pointer.update(from: x.pointer, count: out.count)
      return
    }
    // Reduce the last reduced run first; each pass views the buffer as [outer, R, inner].
    var src = x
    var current = runs
    while let j = current.lastIndex(where: \.reduced) {
      let outer = current[..<j].reduce(1) { $0 * $1.n }
      let r = current[j].n
      let inner = current[(j + 1)...].reduce(1) { $0 * $1.n }
      current.remove(at: j)
      let isLast = !current.contains(where: \.reduced)
      let dst = isLast ? out : Storage(uninitializedCount: outer * inner)
      reduce3(op, src.pointer, outer: outer, r: r, inner: inner, dst.pointer)
      src = dst
    }
  }
}

/// Reduces x: [outer, r, inner] over the middle axis into y: [outer, inner].
private func reduce3(
  _ op: ReduceOp, _ x: UnsafeMutablePointer<Float>, outer: Int, r: Int, inner: Int,
  _ y: UnsafeMutablePointer<Float>
) {
  let xp = UnsafePointer(x)
  if inner == 1 {
    Parallel.forEach(outer, costPerItem: r) { range in
      for o in range {
        let row = xp + o * r
        y[o] = op == .sum ? sumContiguous(row, r) : maxContiguous(row, r)
      }
    }
    return
  }
  // Parallelise over whichever of outer and inner is larger.
  if outer >= Parallel.threads || outer * r * inner < Parallel.grain {
    Parallel.forEach(outer, costPerItem: r * inner) { range in
      for o in range { reduceRows(op, xp + o * r * inner, r: r, inner: inner, stride: inner, y + o * inner) }
    }
  } else {
    Parallel.forEach(inner, costPerItem: r * outer) { range in
      for o in 0..<outer {
        reduceRows(
          op, xp + o * r * inner + range.lowerBound, r: r, inner: range.count, stride: inner,
          y + o * inner + range.lowerBound)
      }
    }
  }
}

/// y[i] = op over k of x[k·stride + i], for i < inner.
@inline(__always)
private func reduceRows(
  _ op: ReduceOp, _ x: UnsafePointer<Float>, r: Int, inner: Int, stride: Int,
  _ y: UnsafeMutablePointer<Float>
) {
  y.update(from: x, count: inner)
  if op == .sum {
    for k in 1..<max(r, 1) {
      let row = x + k * stride
      for i in 0..<inner { y[i] += row[i] }
    }
  } else {
    for k in 1..<max(r, 1) {
      let row = x + k * stride
      for i in 0..<inner { y[i] = Swift.max(y[i], row[i]) }
    }
  }
}

/// Sum with eight partial accumulators (vectorisable, and less rounding drift than one).
@inline(__always)
func sumContiguous(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
  var acc = SIMD8<Float>()
  var i = 0
  while i + 8 <= n {
    acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
    i += 8
  }
  var s = acc.sum()
  while i < n {
    s += x[i]
    i += 1
  }
  return s
}

@inline(__always)
private func maxContiguous(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
  var m = -Float.infinity
  for i in 0..<n { m = Swift.max(m, x[i]) }
  return m
}
