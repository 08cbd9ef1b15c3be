// Shape and layout ops: reshape, permute, slice, concat, gather.

extension Tensor {
  /// The same elements with a new shape; one entry may be −1 (inferred). Shares the buffer.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    var target = newShape
    if let i = newShape.firstIndex(of: -1) {
      let known = newShape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
      precondition(known > 0 && count % known == 0, "reshaped: cannot infer -1 in \(newShape) for shape \(shape)")
      target[i] = count / known
    }
    precondition(elementCount(target) == count, "reshaped: \(shape) has \(count) elements, \(target) needs \(elementCount(target))")
    if target == shape { return self }
    let y = Tensor(storage: storage, shape: target)
    let inShape = shape
    return y.recording([self]) { g, _ in [g.reshaped(inShape)] }
  }

  /// Flattens all axes from `axis` on into one.
  public func flattened(from axis: Int = 1) -> Tensor {
    reshaped(Array(shape[..<axis]) + [-1])
  }

  /// Axes reordered: output axis i is input axis `perm[i]`.
  public func permuted(_ perm: [Int]) -> Tensor {
    precondition(perm.sorted() == Array(0..<rank), "permuted: \(perm) is not a permutation of \(rank) axes")
    if perm == Array(0..<rank) { return self }
    let out = Tensor(uninitializedShape: perm.map { shape[$0] })
    backend.permute(storage, shape, perm, into: out.storage)
    var inverse = [Int](repeating: 0, count: rank)
    for (i, p) in perm.enumerated() { inverse[p] = i }
    return out.recording([self]) { g, _ in [g.permuted(inverse)] }
  }

  /// The last two axes swapped.
  public func transposed() -> Tensor {
    precondition(rank >= 2, "transposed: needs rank ≥ 2, got \(shape)")
    var perm = Array(0..<rank)
    perm.swapAt(rank - 1, rank - 2)
    return permuted(perm)
  }

  /// Positions `range` of `axis`.
  public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "slice: axis \(axis) out of range for \(shape)")
    precondition(range.lowerBound >= 0 && range.upperBound <= shape[a], "slice: \(range) outside 0..<\(shape[a]) on axis \(a)")
    if range.count == shape[a] { return self }
    var outShape = shape
    outShape[a] = range.count
    let out = Tensor(uninitializedShape: outShape)
    let outer = shape[..<a].reduce(1, *)
    let inner = shape[(a + 1)...].reduce(1, *)
    backend.copyAxisRange(
      storage, outer: outer, srcAxis: shape[a], srcStart: range.lowerBound, inner: inner,
      into: out.storage, dstAxis: range.count, dstStart: 0, length: range.count)
    let full = shape[a]
    return out.recording([self]) { g, _ in [g.padded(axis: a, before: range.lowerBound, total: full)] }
  }

  /// Embeds this tensor in zeros along `axis`, at offset `before`, to extent `total`.
  public func padded(axis: Int, before: Int, total: Int) -> Tensor {
    let a = axis < 0 ? axis + rank : axis
    precondition(before >= 0 && before + shape[a] <= total, "padded: \(shape[a]) at \(before) does not fit in \(total)")
    var outShape = shape
    outShape[a] = total
    let out = Tensor.zeros(outShape)
    let outer = shape[..<a].reduce(1, *)
    let inner = shape[(a + 1)...].reduce(1, *)
    backend.copyAxisRange(
      storage, outer: outer, srcAxis: shape[a], srcStart: 0, inner: inner,
      into: out.storage, dstAxis: total, dstStart: before, length: shape[a])
    let len = shape[a]
    return out.recording([self]) { g, _ in [g.slice(axis: a, before..<(before + len))] }
  }

  /// Rows of axis 0 at `indices` (like `torch.index_select(x, 0, indices)`).
  public func indexSelect(_ indices: [Int]) -> Tensor {
    precondition(rank >= 1, "indexSelect: needs rank ≥ 1")
    let rows = shape[0]
    for i in indices { precondition(i >= 0 && i < rows, "indexSelect: index \(i) outside 0..<\(rows)") }
    let rowSize = count / Swift.max(rows, 1)
    let out = Tensor(uninitializedShape: [indices.count] + shape.dropFirst())
    backend.gatherRows(storage, rowSize: rowSize, indices: indices, into: out.storage)
    return out.recording([self]) { g, _ in [g.scatterAddRows(indices, rows: rows)] }
  }

  /// The adjoint of ``indexSelect(_:)``: a tensor of `rows` rows where row `indices[i]`
  /// accumulates row i of this tensor.
  public func scatterAddRows(_ indices: [Int], rows: Int) -> Tensor {
    precondition(shape.first == indices.count, "scatterAddRows: \(indices.count) indices for shape \(shape)")
    let rowSize = count / Swift.max(indices.count, 1)
    let out = Tensor.zeros([rows] + shape.dropFirst())
    for i in indices { precondition(i >= 0 && i < rows, "scatterAddRows: index \(i) outside 0..<\(rows)") }
    backend.scatterAddRows(storage, rowSize: rowSize, indices: indices, into: out.storage)
    return out.recording([self]) { g, _ in [g.indexSelect(indices)] }
  }

  /// For x: [N, K], the entries x[i, indices[i]] as [N] (one pick per row; used for
  /// multi-head outputs and class scores). Composed of differentiable ops.
  public func pick(_ indices: [Int]) -> Tensor {
    precondition(rank == 2 && shape[0] == indices.count, "pick: needs [N, K] with N = \(indices.count), got \(shape)")
    return (self * Tensor.oneHot(indices, classes: shape[1])).sum(axes: [1])
  }
}

/// Tensors joined along `axis`; all other extents must agree.
public func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
  precondition(!tensors.isEmpty, "concat: no tensors")
  let first = tensors[0]
  let a = axis < 0 ? axis + first.rank : axis
  for t in tensors {
    precondition(
      t.rank == first.rank && t.shape.enumerated().allSatisfy { $0.offset == a || $0.element == first.shape[$0.offset] },
      "concat: shapes \(first.shape) and \(t.shape) differ off axis \(a)")
  }
  if tensors.count == 1 { return first }
  var outShape = first.shape
  outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
  let out = Tensor(uninitializedShape: outShape)
  let outer = first.shape[..<a].reduce(1, *)
  let inner = first.shape[(a + 1)...].reduce(1, *)
  var offset = 0
  var ranges: [Range<Int>] = []
  for t in tensors {
    backend.copyAxisRange(
      t.storage, outer: outer, srcAxis: t.shape[a], srcStart: 0, inner: inner,
      into: out.storage, dstAxis: outShape[a], dstStart: offset, length: t.shape[a])
    ranges.append(offset..<(offset + t.shape[a]))
    offset += t.shape[a]
  }
  return out.recording(tensors) { g, needs in
    ranges.enumerated().map { needs[$0.offset] ? g.slice(axis: a, $0.element) : nil }
  }
}
