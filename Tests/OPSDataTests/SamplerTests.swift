import Foundation
import Testing

@testable import OPSData

/// Labels with very uneven genes: gene g has `sizes[g]` cells, spread over 3 batches.
private func labels(_ sizes: [Int] = [1, 3, 10, 50, 7]) -> (genes: [Int32], batches: [Int32]) {
  var genes: [Int32] = []
  var batches: [Int32] = []
  for (g, size) in sizes.enumerated() {
    for k in 0..<size {
      genes.append(Int32(g))
      batches.append(Int32((k + g) % 3))
    }
  }
  return (genes, batches)
}

/// The next batch of an endless sampler (fails the test if it ends).
private func take<S: CellSampler>(
  _ sampler: inout S, sourceLocation: SourceLocation = #_sourceLocation
) throws -> [Int] {
  let batch = sampler.next()
  return try #require(batch, sourceLocation: sourceLocation)
}

private func roundTrip<T: Codable>(_ value: T) throws -> T {
  try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
}

@Suite struct SamplerTests {
  @Test func classBalancedDrawsEveryGeneEquallyOften() throws {
    let (genes, batches) = labels()
    var sampler = try ClassBalancedSampler(
      geneOfCell: genes, batchOfCell: batches, batchSize: 3, seed: 7)
    var draws: [Int] = []
    for _ in 0..<100 { draws += try take(&sampler) }
    #expect(draws.count == 300)
    let geneOf = draws.map { Int(genes[$0]) }
    // Every window of 5 consecutive draws (a round) holds each gene once.
    for round in 0..<(300 / 5) {
      #expect(Set(geneOf[(round * 5)..<(round * 5 + 5)]) == Set(0..<5))
    }
    // Each gene's cells are dealt without replacement: every pass is a permutation of its cells.
    for (g, size) in [1, 3, 10, 50, 7].enumerated() {
      let cellsOfGene = draws.filter { genes[$0] == Int32(g) }
      #expect(cellsOfGene.count == 60)
      let expected = Set(genes.indices.filter { genes[$0] == Int32(g) })
      for pass in 0..<(60 / size) {
        #expect(Set(cellsOfGene[(pass * size)..<(pass * size + size)]) == expected)
      }
    }
    // Rounds and passes are reshuffled: the gene order differs between rounds.
    let rounds = (0..<60).map { Array(geneOf[($0 * 5)..<($0 * 5 + 5)]) }
    #expect(Set(rounds.map { $0.description }).count > 10)
  }

  @Test func classBalancedIsDeterministicAndResumable() throws {
    let (genes, batches) = labels()
    var a = try ClassBalancedSampler(
      geneOfCell: genes, batchOfCell: batches, batchSize: 4, seed: 11)
    var b = try ClassBalancedSampler(
      geneOfCell: genes, batchOfCell: batches, batchSize: 4, seed: 11)
    var c = try ClassBalancedSampler(
      geneOfCell: genes, batchOfCell: batches, batchSize: 4, seed: 12)
    var first: [[Int]] = []
    var other: [[Int]] = []
    for _ in 0..<37 {
      let x = try take(&a)
      #expect(x == b.next())
      first.append(x)
      other.append(try take(&c))
    }
    #expect(first != other)
    let saved = try roundTrip(a.state)
    #expect(saved.batchesServed == 37)
    var resumed = try ClassBalancedSampler(
      geneOfCell: genes, batchOfCell: batches, restoring: saved)
    for _ in 0..<80 { #expect(resumed.next() == a.next()) }
    #expect(resumed.state == a.state)
    let json = String(decoding: try JSONEncoder().encode(saved), as: UTF8.self)
    #expect(json.contains("\"batch_size\":4"))
    #expect(json.count < 1000, "the state stays small: \(json.count) bytes")
    // A state from other labels is refused.
    let (otherGenes, otherBatches) = labels([2, 2, 2, 2, 2])
    #expect(throws: OPSDataError.self) {
      try ClassBalancedSampler(geneOfCell: otherGenes, batchOfCell: otherBatches, restoring: saved)
    }
  }

  @Test func classBalancedExcludesHeldOutBatches() throws {
    let (genes, batches) = labels([1, 3, 10, 50, 7])
    var sampler = try ClassBalancedSampler(
      geneOfCell: genes, batchOfCell: batches, batchSize: 5, seed: 1, excludedBatches: [0])
    // Gene 0 has one cell, in batch 0: it disappears.
    #expect(sampler.genes == [1, 2, 3, 4])
    for _ in 0..<50 {
      let batch = try take(&sampler)
      #expect(batch.allSatisfy { batches[$0] != 0 })
    }
    #expect(throws: OPSDataError.self) {
      try ClassBalancedSampler(
        geneOfCell: genes, batchOfCell: batches, batchSize: 5, seed: 1, excludedBatches: [0, 1, 2])
    }
    #expect(throws: OPSDataError.self) {
      try ClassBalancedSampler(geneOfCell: genes, batchOfCell: batches, batchSize: 0, seed: 1)
    }
  }

  @Test func plateConsistentBatchesComeFromOneBatchAndBalanceGenes() throws {
    let (genes, batches) = labels([4, 9, 12, 30, 6])
    var sampler = try PlateConsistentSampler(
      geneOfCell: genes, batchOfCell: batches, batchSize: 5, seed: 5, excludedBatches: [2])
    #expect(sampler.batches == [0, 1])
    var perBatch: [Int: Int] = [:]
    var genesPerBatch: [Int: [Int: Int]] = [:]
    for step in 0..<60 {
      let batch = try take(&sampler)
      let plates = Set(batch.map { Int(batches[$0]) })
      #expect(plates.count == 1, "mini-batch \(step) mixes batches \(plates)")
      let plate = try #require(plates.first)
      #expect(plate != 2)
      #expect(sampler.lastBatch == plate)
      perBatch[plate, default: 0] += 1
      for cell in batch { genesPerBatch[plate, default: [:]][Int(genes[cell]), default: 0] += 1 }
      // Five genes, five cells: a gene-balanced batch holds each gene present in the plate once.
      #expect(Set(batch.map { genes[$0] }).count == 5)
    }
    #expect(perBatch == [0: 30, 1: 30])
    for (_, counts) in genesPerBatch { #expect(Set(counts.values) == [30]) }
  }

  @Test func plateConsistentIsResumable() throws {
    let (genes, batches) = labels()
    var a = try PlateConsistentSampler(
      geneOfCell: genes, batchOfCell: batches, batchSize: 3, seed: 9)
    for _ in 0..<13 { _ = a.next() }
    let saved = try roundTrip(a.state)
    var resumed = try PlateConsistentSampler(
      geneOfCell: genes, batchOfCell: batches, restoring: saved)
    for _ in 0..<40 { #expect(resumed.next() == a.next()) }
    var fresh = try PlateConsistentSampler(
      geneOfCell: genes, batchOfCell: batches, batchSize: 3, seed: 9)
    var again = try PlateConsistentSampler(
      geneOfCell: genes, batchOfCell: batches, batchSize: 3, seed: 9)
    for _ in 0..<20 { #expect(fresh.next() == again.next()) }
    #expect(throws: OPSDataError.self) {
      try PlateConsistentSampler(
        geneOfCell: genes, batchOfCell: batches, excludedBatches: [1], restoring: saved)
    }
  }

  @Test func indexListSamplerServesListsThenStops() {
    var sampler = IndexListSampler([[1, 2], [3]])
    #expect(sampler.next() == [1, 2])
    #expect(sampler.state.position == 1)
    #expect(sampler.next() == [3])
    #expect(sampler.next() == nil)
    var resumed = IndexListSampler([[1, 2], [3]], position: 1)
    #expect(resumed.next() == [3])
  }
}
