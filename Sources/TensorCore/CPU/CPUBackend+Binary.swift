import GrapeSupport
extension CPUBackend {
  public func binary(
    _ op: BinaryOp, _ a: Storage, _ aShape: [Int], _ b: Storage, _ bShape: [Int],
    into out: Storage, _ outShape: [Int]
  ) {
    let ap = UnsafePointer(a.pointer)
    let bp = UnsafePointer(b.pointer)
    let op0 = out.pointer
    let n = out.count
    if aShape == bShape {
      Parallel.forEach(n, costPerItem: 2) { r in
        binaryLoop(op, ap + r.lowerBound, 1, bp + r.lowerBound, 1, op0 + r.lowerBound, r.count)
      }
      return
    }
    let plan = BroadcastPlan(aShape: aShape, bShape: bShape, outShape: outShape)
    let inner = plan.dims.last ?? 1
    let sa = plan.aStrides.last ?? 0
    let sb = plan.bStrides.last ?? 0
    let rows = n / max(inner, 1)
    Parallel.forEach(rows, costPerItem: inner * 2) { r in
      for row in r {
        let (ao, bo) = plan.offsets(ofRow: row)
        binaryLoop(op, ap + ao, sa, bp + bo, sb, op0 + row * inner, inner)
      }
    }
  }
}

/// Collapsed broadcast geometry: `dims` of the output after merging axes that broadcast alike,
/// and per-operand strides (0 on broadcast axes).
struct BroadcastPlan {
  var dims: [Int] = []
  var aStrides: [Int] = []
  var bStrides: [Int] = []

  init(aShape: [Int], bShape: [Int], outShape: [Int]) {
    let r = outShape.count
    let a = [Int](repeating: 1, count: r - aShape.count) + aShape
    let b = [Int](repeating: 1, count: r - bShape.count) + bShape
    // Merge runs of axes with the same (a broadcast, b broadcast) pattern.
    var groups: [(n: Int, fa: Bool, fb: Bool)] = []
    for i in 0..<r where outShape[i] != 1 {
      let fa = a[i] == 1
      let fb = b[i] == 1
      if let last = groups.last, last.fa == fa, last.fb == fb {
        groups[groups.count - 1].n *= outShape[i]
      } else {
        groups.append((outShape[i], fa, fb))
      }
    }
    if groups.isEmpty { groups = [(1, false, false)] }
    dims = groups.map(\.n)
    var accA = 1
    var accB = 1
    aStrides = [Int](repeating: 0, count: groups.count)
    bStrides = [Int](repeating: 0, count: groups.count)
    for i in stride(from: groups.count - 1, through: 0, by: -1) {
      if !groups[i].fa {
        aStrides[i] = accA
        accA *= groups[i].n
      }
      if !groups[i].fb {
        bStrides[i] = accB
        accB *= groups[i].n
      }
    }
  }

  /// Offsets into a and b of the start of output row `row` (a row is the last collapsed axis).
  @inline(__always)
  func offsets(ofRow row: Int) -> (Int, Int) {
    var rem = row
    var ao = 0
    var bo = 0
    var i = dims.count - 2
    while i >= 0 {
      let d = dims[i]
      let idx = rem % d
      rem /= d
      ao += idx * aStrides[i]
      bo += idx * bStrides[i]
      i -= 1
    }
    return (ao, bo)
  }
}

@inline(__always)
private func binaryLoop(
  _ op: BinaryOp, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
  _ y: UnsafeMutablePointer<Float>, _ n: Int
) {
  // Specialise the common stride patterns so the compiler vectorises the loops.
  if sa == 1 && sb == 1 {
    binaryKernel(op, n) { a[$0] } _: { b[$0] } _: { y[$0] = $1 }
  } else if sa == 1 && sb == 0 {
    let bv = b[0]
    binaryKernel(op, n) { a[$0] } _: { _ in bv } _: { y[$0] = $1 }
  } else if sa == 0 && sb == 1 {
    let av = a[0]
    binaryKernel(op, n) { _ in av } _: { b[$0] } _: { y[$0] = $1 }
  } else {
    binaryKernel(op, n) { a[$0 * sa] } _: { b[$0 * sb] } _: { y[$0] = $1 }
  }
}

@inline(__always)
private func binaryKernel(
  _ op: BinaryOp, _ n: Int, _ a: (Int) -> Float, _ b: (Int) -> Float, _ store: (Int, Float) -> Void
) {
  switch op {
  case .add: for i in 0..<n { store(i, a(i) + b(i)) }
  case .sub: for i in 0..<n { store(i, a(i) - b(i)) }
  case .mul: for i in 0..<n { store(i, a(i) * b(i)) }
  case .div: for i in 0..<n { store(i, a(i) / b(i)) }
  case .maximum: for i in 0..<n { store(i, Swift.max(a(i), b(i))) }
  case .minimum: for i in 0..<n { store(i, Swift.min(a(i), b(i))) }
  case .greater: for i in 0..<n { store(i, a(i) > b(i) ? 1 : 0) }
  case .equal: for i in 0..<n { store(i, a(i) == b(i) ? 1 : 0) }
  }
}
