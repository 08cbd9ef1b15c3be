import OPSData

/// Which genes look different from the controls (phenotypic activity).
///
/// Two inputs support it, in different ways:
///
/// - **Per-cell codes** (``fromCells(_:control:nullSize:threshold:maxCellsPerGene:maxControlCells:seed:)``):
///   copairs' phenotypic activity (Kalinin et al. 2025). Each cell of a gene is a query; the other
///   cells of its gene are the positives and the control cells the negatives, ranked by cosine
///   similarity; a gene's score is the mean AP of its cells, its p-value copairs' permutation
///   test (``Significance``), corrected by Benjamini–Hochberg over genes. A gene is active when
///   its corrected p-value lies below the threshold. Genes with one cell have no positives and are
///   left out.
/// - **A gene embedding with control rows** (``fromControlRows(_:control:threshold:)``): one row
///   per gene has no replicates, so there is nothing to rank a gene's own profiles against and
///   copairs' test does not apply. The score is the cosine distance of the gene's row to the mean
///   of the control rows. With `K ≥ 2` control rows (the control's name, or the name followed by
///   `_` and a suffix, such as one row per non-targeting guide) the controls give the null: each
///   control row's cosine distance to the mean of the other control rows, and a gene's p-value is
///   `(1 + #{controls at least as far}) / (K + 1)`, corrected by Benjamini–Hochberg over genes (a
///   corrected p below 0.05 needs `K ≥ 19`). With a single control row the distances are reported
///   without p-values, and no gene is called active.
public struct PhenotypicActivity: Sendable, Equatable {
  /// How activity was measured.
  public enum Method: String, Sendable {
    /// copairs' phenotypic activity on per-cell codes (score: mAP against the control cells).
    case cells = "copairs_cells"
    /// Cosine distance of gene rows to the control rows (score: the distance).
    case controlRows = "control_rows"
  }

  /// One gene's activity.
  public struct Gene: Sendable, Equatable {
    /// Gene name.
    public let gene: String
    /// mAP against the controls (``Method/cells``) or cosine distance to the controls' mean
    /// (``Method/controlRows``).
    public let score: Double
    /// Profiles of the gene behind the score (cells used, or 1 for a row).
    public let profiles: Int
    /// Permutation p-value (`nil` when the input supports none).
    public let p: Double?
    /// Benjamini–Hochberg corrected p-value.
    public let pCorrected: Double?
  }

  /// The method.
  public let method: Method
  /// The control gene's name.
  public let control: String
  /// Control profiles used (cells or rows).
  public let controlProfiles: Int
  /// Null draws per configuration (``Method/cells`` only).
  public let nullSize: Int?
  /// Corrected p-values below this make a gene active.
  public let threshold: Double
  /// One entry per scored gene, in the input's gene order.
  public let genes: [Gene]

  /// The share of scored genes that are active (`nil` when no p-values exist).
  public var fractionActive: Double? {
    let tested = genes.compactMap(\.pCorrected)
    guard !tested.isEmpty else { return nil }
    return Double(tested.filter { $0 < threshold }.count) / Double(tested.count)
  }

  /// The default control name of `grape simulate` and of most screens' tables.
  public static let defaultControl = "nontargeting"

  /// copairs' phenotypic activity of per-cell codes.
  ///
  /// - Parameters:
  ///   - cells: the cell codes.
  ///   - control: the control gene's name.
  ///   - nullSize: null draws per configuration.
  ///   - threshold: significance level of the corrected p-values.
  ///   - maxCellsPerGene: cells per gene above which a seeded uniform subsample of this size is
  ///     used.
  ///   - maxControlCells: control cells above which a seeded uniform subsample is used.
  ///   - seed: seed of the subsamples and of the null draws.
  /// - Returns: `nil` when the control has no cells or no other gene has two cells.
  public static func fromCells(
    _ cells: LabeledCodes, control: String, nullSize: Int, threshold: Double = 0.05,
    maxCellsPerGene: Int = 200, maxControlCells: Int = 2_000, seed: UInt64 = 42
  ) -> PhenotypicActivity? {
    guard let controlIndex = cells.geneNames.firstIndex(of: control) else { return nil }
    let d = cells.dimension
    var members = [[Int]](repeating: [], count: cells.geneNames.count)
    for (i, g) in cells.geneIndex.enumerated() { members[g].append(i) }
    func capped(_ list: [Int], _ limit: Int, _ salt: UInt64) -> [Int] {
      guard list.count > limit else { return list }
      return BatchEffect.subsample(list.count, limit, seed: seed ^ salt).map { list[$0] }
    }
    let controls = capped(members[controlIndex], maxControlCells, 0xC0_47A0_15)
    guard !controls.isEmpty else { return nil }
    // Unit rows in double precision (zero rows stay zero: similarity 0).
    func unitRows(_ rows: [Int]) -> [Double] {
      var out = [Double](repeating: 0, count: rows.count * d)
      for (r, i) in rows.enumerated() {
        var s = 0.0
        for j in 0..<d { s += Double(cells.values[i * d + j]) * Double(cells.values[i * d + j]) }
        let inv = s > 0 ? 1 / s.squareRoot() : 0
        for j in 0..<d { out[r * d + j] = Double(cells.values[i * d + j]) * inv }
      }
      return out
    }
    let controlUnit = unitRows(controls)
    var names: [String] = []
    var aps: [Double?] = []
    var configurations: [Significance.Configuration?] = []
    var groups: [Int] = []
    var used: [Int] = []
    for g in cells.geneNames.indices where g != controlIndex && members[g].count >= 2 {
      let own = capped(members[g], maxCellsPerGene, 0xACE0_0000 &+ UInt64(g))
      let c = own.count
      let list = unitRows(own) + controlUnit
      let width = c + controls.count
      var sims = [Double](repeating: 0, count: c * width)
      list.withUnsafeBufferPointer { l in
        sims.withUnsafeMutableBufferPointer { s in
          guard let pl = l.baseAddress, let ps = s.baseAddress else { return }
          LinearAlgebra.dgemm(
            transA: false, transB: true, m: c, n: width, k: d, alpha: 1, pl, pl, beta: 0, ps)
        }
      }
      let group = names.count
      names.append(cells.geneNames[g])
      used.append(c)
      let configuration = Significance.Configuration(positives: c - 1, total: width - 1)
      sims.withUnsafeBufferPointer { s in
        for q in 0..<c {
          let hits = (0..<c).filter { $0 != q }
          aps.append(
            AveragePrecision.averagePrecision(
              query: q,
              similarities: UnsafeBufferPointer(rebasing: s[(q * width)..<((q + 1) * width)]),
              hits: hits))
          configurations.append(configuration)
          groups.append(group)
        }
      }
    }
    guard !names.isEmpty else { return nil }
    let table = Significance.groupSignificance(
      averagePrecisions: aps, configurations: configurations, groups: groups, names: names,
      nullSize: nullSize, threshold: threshold, seed: seed)
    let byName = Dictionary(uniqueKeysWithValues: table.groups.map { ($0.name, $0) })
    var genes: [Gene] = []
    for (k, name) in names.enumerated() {
      guard let s = byName[name] else { continue }
      genes.append(
        Gene(gene: name, score: s.map, profiles: used[k], p: s.p, pCorrected: s.pCorrected))
    }
    return PhenotypicActivity(
      method: .cells, control: control, controlProfiles: controls.count, nullSize: nullSize,
      threshold: threshold, genes: genes)
  }

  /// Activity of gene rows as their cosine distance to the control rows.
  ///
  /// - Parameters:
  ///   - embedding: the gene embedding, control rows included.
  ///   - control: the control's name; rows named so, or so followed by `_` and a suffix, are
  ///     control rows.
  ///   - threshold: significance level of the corrected p-values.
  /// - Returns: `nil` without control rows or without other rows.
  public static func fromControlRows(
    _ embedding: GeneEmbedding, control: String, threshold: Double = 0.05
  ) -> PhenotypicActivity? {
    let isControl = embedding.genes.map { $0 == control || $0.hasPrefix(control + "_") }
    let controlRows = embedding.genes.indices.filter { isControl[$0] }
    let geneRows = embedding.genes.indices.filter { !isControl[$0] }
    guard !controlRows.isEmpty, !geneRows.isEmpty else { return nil }
    let d = embedding.dimension
    func sum(_ rows: [Int]) -> [Double] {
      var s = [Double](repeating: 0, count: d)
      for i in rows { for (j, v) in embedding.row(i).enumerated() { s[j] += Double(v) } }
      return s
    }
    func distance(_ i: Int, _ centre: [Double]) -> Double {
      var dot = 0.0
      var a = 0.0
      var b = 0.0
      for (j, v) in embedding.row(i).enumerated() {
        let x = Double(v)
        dot += x * centre[j]
        a += x * x
        b += centre[j] * centre[j]
      }
      return a > 0 && b > 0 ? 1 - dot / (a.squareRoot() * b.squareRoot()) : 1
    }
    let total = sum(controlRows)
    let k = controlRows.count
    let centre = total.map { $0 / Double(k) }
    let scores = geneRows.map { distance($0, centre) }
    var p: [Double?] = Array(repeating: nil, count: geneRows.count)
    var corrected: [Double?] = p
    if k >= 2 {
      let scale = 1 / Double(k - 1)
      var null: [Double] = []
      for i in controlRows {
        let row = Array(embedding.row(i))
        var others = [Double](repeating: 0, count: d)
        for j in 0..<d { others[j] = (total[j] - Double(row[j])) * scale }
        null.append(distance(i, others))
      }
      var raw: [Double] = []
      for s in scores {
        let atLeast = null.filter { $0 >= s - 1e-12 }.count
        raw.append(Double(1 + atLeast) / Double(k + 1))
      }
      p = raw
      corrected = Significance.benjaminiHochberg(raw).map { $0 }
    }
    let genes = geneRows.indices.map {
      Gene(
        gene: embedding.genes[geneRows[$0]], score: scores[$0], profiles: 1, p: p[$0],
        pCorrected: corrected[$0])
    }
    return PhenotypicActivity(
      method: .controlRows, control: control, controlProfiles: k, nullSize: nil,
      threshold: threshold, genes: genes)
  }
}
