extension KMeans {
  /// Lloyd iterations on the Gram matrix with incremental centre sums.
  ///
  /// Centres are kept as unnormalised sums `S[c] = Σ_{j ∈ c} G[j]` (so `x · c = S[c][x] / w_c`)
  /// and updated by the rows of the points that changed cluster, so an iteration costs
  /// O(k·n + moved·n) instead of O(n²). Same steps, tie rules and stopping rules as
  /// `lloydReference` (which recomputes every centre from its members), up to rounding.
  func lloydGram(_ data: KMeansData, seeds: [Int], computeCenters: Bool) -> KMeansResult {
    let n = data.count
    let k = seeds.count
    let tol = tolerance == 0 ? 0 : data.meanVariance * tolerance
    let norms = data.norms
    var sums = [Double](repeating: 0, count: k * n)
    var weight = [Int](repeating: 1, count: k)
    // nil while the centres are the seed points themselves (possibly repeated).
    var owner: [Int]?
    data.gram.withUnsafeBufferPointer { g in
      for c in 0..<k { for x in 0..<n { sums[c * n + x] = g[seeds[c] * n + x] } }
    }

    /// Effective cluster of each centre (empty → largest, the first largest on ties) and the
    /// squared norms `c · c`.
    func derive(_ weight: [Int], _ owner: [Int]?, _ sums: [Double]) -> (eff: [Int], q: [Double]) {
      var largest = 0
      for c in 0..<k where weight[c] > weight[largest] { largest = c }
      let eff = (0..<k).map { weight[$0] > 0 ? $0 : largest }
      var raw = [Double](repeating: 0, count: k)
      if let owner {
        for j in 0..<n { raw[owner[j]] += sums[owner[j] * n + j] }
      } else {
        for c in 0..<k { raw[c] = sums[c * n + seeds[c]] }
      }
      let q = (0..<k).map { c -> Double in
        let e = eff[c]
        let w = Double(weight[e])
        return raw[e] / (w * w)
      }
      return (eff, q)
    }

    /// `x · c` for centre c.
    @inline(__always) func dot(
      _ sums: UnsafeBufferPointer<Double>, _ eff: [Int], _ inv: [Double], _ c: Int, _ x: Int
    ) -> Double {
      sums[eff[c] * n + x] * inv[c]
    }

    func assign(_ eff: [Int], _ q: [Double], _ weight: [Int], into labels: inout [Int]) {
      let inv = (0..<k).map { 1 / Double(weight[eff[$0]]) }
      var best = [Double](repeating: .infinity, count: n)
      sums.withUnsafeBufferPointer { s in
        for c in 0..<k {
          let base = eff[c] * n
          let scale = 2 * inv[c]
          let qc = q[c]
          for x in 0..<n {
            let v = qc - scale * s[base + x]
            if v < best[x] {
              best[x] = v
              labels[x] = c
            }
          }
        }
      }
    }

    var (eff, q) = derive(weight, owner, sums)
    var labelsOld = [Int](repeating: -1, count: n)
    var labels = [Int](repeating: 0, count: n)
    var strict = false
    var withinTolerance = false
    var iterations = 0
    for it in 0..<max(maxIterations, 1) {
      iterations = it + 1
      assign(eff, q, weight, into: &labels)
      var newOwner = labels
      var newWeight = [Int](repeating: 0, count: k)
      for x in 0..<n { newWeight[labels[x]] += 1 }
      let inv = (0..<k).map { 1 / Double(weight[eff[$0]]) }
      // Empty clusters take the points farthest from their (old) centres.
      let empty = (0..<k).filter { newWeight[$0] == 0 }
      if !empty.isEmpty {
        var distance = [Double](repeating: 0, count: n)
        sums.withUnsafeBufferPointer { s in
          for x in 0..<n {
            let l = labels[x]
            distance[x] = max(0, norms[x] + q[l] - 2 * dot(s, eff, inv, l, x))
          }
        }
        if let top = distance.max(), top > 0 {
          let far = (0..<n).sorted {
            distance[$0] > distance[$1] || (distance[$0] == distance[$1] && $0 < $1)
          }
          for (slot, cluster) in empty.enumerated() where slot < n {
            let point = far[slot]
            newWeight[newOwner[point]] -= 1
            newOwner[point] = cluster
            newWeight[cluster] += 1
          }
        }
      }
      // Cross terms c_new · c_old, from the old sums.
      var largestNew = 0
      for c in 0..<k where newWeight[c] > newWeight[largestNew] { largestNew = c }
      var crossRaw = [Double](repeating: 0, count: k)
      sums.withUnsafeBufferPointer { s in
        for c in 0..<k {
          let set = newWeight[c] > 0 ? c : largestNew
          let base = eff[c] * n
          var acc = 0.0
          for j in 0..<n where newOwner[j] == set { acc += s[base + j] }
          crossRaw[c] = acc * inv[c] / Double(newWeight[set])
        }
      }
      // Move the sums of the points that changed set.
      data.gram.withUnsafeBufferPointer { g in
        sums.withUnsafeMutableBufferPointer { s in
          if let current = owner {
            for x in 0..<n where current[x] != newOwner[x] {
              let from = current[x] * n
              let to = newOwner[x] * n
              let row = x * n
              for j in 0..<n {
                s[from + j] -= g[row + j]
                s[to + j] += g[row + j]
              }
            }
          } else {
            for i in 0..<(k * n) { s[i] = 0 }
            for x in 0..<n {
              let to = newOwner[x] * n
              let row = x * n
              for j in 0..<n { s[to + j] += g[row + j] }
            }
          }
        }
      }
      owner = newOwner
      weight = newWeight
      let qOld = q
      (eff, q) = derive(weight, owner, sums)
      var shift = 0.0
      for c in 0..<k { shift += max(0, q[c] + qOld[c] - 2 * crossRaw[c]) }
      if labels == labelsOld {
        strict = true
        break
      }
      if shift <= tol {
        withinTolerance = true
        break
      }
      labelsOld = labels
    }
    if !strict { assign(eff, q, weight, into: &labels) }
    let inv = (0..<k).map { 1 / Double(weight[eff[$0]]) }
    var inertia = 0.0
    sums.withUnsafeBufferPointer { s in
      for x in 0..<n {
        let l = labels[x]
        inertia += max(0, norms[x] + q[l] - 2 * dot(s, eff, inv, l, x))
      }
    }
    var centers: [Double] = []
    if computeCenters {
      let members: [[Int]]
      if let owner {
        var sets = [[Int]](repeating: [], count: k)
        for x in 0..<n { sets[owner[x]].append(x) }
        members = (0..<k).map { sets[eff[$0]] }
      } else {
        members = seeds.map { [$0] }
      }
      centers = members.flatMap { data.centroid(of: $0) }
    }
    return KMeansResult(
      labels: labels, inertia: inertia, iterations: iterations,
      converged: strict || withinTolerance,
      seeds: seeds, centers: centers)
  }
}
