import GrapeSupport
import OPSData
import Foundation
import TensorCore

@testable import Evaluation

/// Synthetic inputs for the evaluation tests.
enum TestData {
  /// The repository's CORUM table (`Data/corum_complexes.tsv`: 14 complexes, 105 genes).
  static func corum() throws -> ComplexAssignment {
    let url = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Data/corum_complexes.tsv")
    let text = try String(contentsOf: url, encoding: .utf8)
    var genes: [String] = []
    var ids: [String] = []
    var names: [String] = []
    for line in text.split(separator: "\n").dropFirst() {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      guard f.count == 3 else { continue }
      ids.append(f[0])
      names.append(f[1])
      genes.append(f[2])
    }
    return try ComplexAssignment(genes: genes, complexIDs: ids, complexNames: names)
  }

  /// An embedding of the table's genes (in a shuffled order) plus `controls` extra genes: each
  /// gene is its complex's centre times `signal` plus N(0, 1) noise.
  static func embedding(
    complexes: ComplexAssignment, dimension d: Int, signal: Double, controls: Int = 0,
    dropping: Set<String> = [], seed: UInt64 = 1
  ) throws -> GeneEmbedding {
    var rng = RandomGenerator(seed: seed)
    let centres = (0..<(complexes.complexCount * d)).map { _ in rng.normal() }
    var genes = complexes.genes.filter { !dropping.contains($0) }
    rng.shuffle(&genes)
    genes += (0..<controls).map { "nontargeting_\($0)" }
    var values: [Float] = []
    for g in genes {
      let c = complexes.complexIndex(of: g)
      for j in 0..<d {
        let centre = c.map { centres[$0 * d + j] } ?? 0
        values.append(Float(centre * signal + rng.normal()))
      }
    }
    return try GeneEmbedding(genes: genes, values: values, dimension: d, input: "embedding")
  }

  /// Cells of every gene (`perGene` each) spread over `batches` batches, with per-gene means
  /// following `embedding` and a per-batch shift of size `batchShift`.
  static func cells(
    embedding: GeneEmbedding, perGene: Int, batches: Int, batchShift: Double, seed: UInt64 = 2
  ) throws -> LabeledCodes {
    var rng = RandomGenerator(seed: seed)
    let d = embedding.dimension
    let shifts = (0..<(batches * d)).map { _ in rng.normal() * batchShift }
    var values: [Float] = []
    var geneIndex: [Int] = []
    var batchIndex: [Int] = []
    for g in 0..<embedding.count {
      for c in 0..<perGene {
        let b = (g + c) % batches
        geneIndex.append(g)
        batchIndex.append(b)
        for j in 0..<d {
          values.append(embedding.values[g * d + j] + Float(shifts[b * d + j] + rng.normal()))
        }
      }
    }
    return try LabeledCodes(
      values: values, dimension: d, geneIndex: geneIndex, geneNames: embedding.genes,
      batchIndex: batchIndex, batchNames: (0..<batches).map { "plate\($0 + 1)" })
  }

  /// A fresh empty folder under the temporary directory.
  static func folder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent(
        "grape-eval-tests-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    try? FileManager.default.removeItem(at: url)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
