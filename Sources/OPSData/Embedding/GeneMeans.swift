/// Per-gene means of rows (cells, wells or genes) added one at a time: the reduction that turns a
/// per-cell or per-well file into a gene × d embedding.
///
/// Genes keep the order of their first row. Sums are kept in `Double`, so a gene with one row
/// gets exactly its values back and a mean is the correctly rounded float of the double mean.
struct GeneMeans {
  /// The columns of every row.
  let dimension: Int
  /// Gene names in the order of their first row.
  private(set) var genes: [String] = []
  /// Rows added so far.
  private(set) var rows = 0
  private var slots: [String: Int] = [:]
  private var sums: [Double] = []
  private var counts: [Int] = []

  /// An empty reduction of rows of `dimension` values.
  init(dimension: Int) {
    self.dimension = dimension
  }

  /// Starts a row of `gene` and returns the gene's slot, to which ``add(_:slot:column:)`` adds the
  /// row's values (a sparse row adds only its stored entries).
  mutating func beginRow(gene: String) -> Int {
    rows += 1
    if let slot = slots[gene] {
      counts[slot] += 1
      return slot
    }
    let slot = genes.count
    slots[gene] = slot
    genes.append(gene)
    counts.append(1)
    sums.append(contentsOf: repeatElement(0, count: dimension))
    return slot
  }

  /// Adds `value` to column `column` of the gene in `slot`.
  @inline(__always)
  mutating func add(_ value: Double, slot: Int, column: Int) {
    sums[slot * dimension + column] += value
  }

  /// The means as an embedding (row order: first appearance).
  func embedding(source: String) -> GeneEmbedding {
    var values = [Float](repeating: 0, count: sums.count)
    for slot in genes.indices {
      let n = Double(counts[slot])
      for j in 0..<dimension {
        values[slot * dimension + j] = Float(sums[slot * dimension + j] / n)
      }
    }
    return GeneEmbedding(unchecked: genes, values: values, dimension: dimension, source: source)
  }
}
