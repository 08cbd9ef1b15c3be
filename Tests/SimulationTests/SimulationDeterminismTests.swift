import Foundation
import Testing

@testable import Simulation
import OPSData

@Suite struct SimulationDeterminismTests {
  @Test func sameSeedGivesTheSameBytes() throws {
    let table = try SimFixtures.smallTable()
    let config = SimFixtures.smallConfig()
    let a = try SimFixtures.collect(ScreenSimulator(config: config, complexes: table))
    let b = try SimFixtures.collect(ScreenSimulator(config: config, complexes: table))
    #expect(a.count == 9 * 4 + 2 * 4)
    #expect(a.chunks == b.chunks)
    // The pixels are not trivial: crops differ from each other and are not constant.
    let stride = 4 * 16 * 16
    #expect(Array(a.pixels[0..<stride]) != Array(a.pixels[stride..<(2 * stride)]))
    #expect(Set(a.pixels[0..<stride]).count > 50)
  }

  @Test func differentSeedsGiveDifferentScreens() throws {
    let table = try SimFixtures.smallTable()
    let a = try SimFixtures.collect(
      ScreenSimulator(config: SimFixtures.smallConfig(seed: 1), complexes: table))
    let b = try SimFixtures.collect(
      ScreenSimulator(config: SimFixtures.smallConfig(seed: 2), complexes: table))
    #expect(a.count == b.count)
    let differing = zip(a.pixels, b.pixels).filter { $0 != $1 }.count
    #expect(differing > a.pixels.count / 2)
    let ta = try ScreenSimulator(config: SimFixtures.smallConfig(seed: 1), complexes: table).truth
    let tb = try ScreenSimulator(config: SimFixtures.smallConfig(seed: 2), complexes: table).truth
    #expect(ta.genePhenotypes != tb.genePhenotypes)
    #expect(ta.batchEffects != tb.batchEffects)
  }

  @Test func bytesDoNotDependOnChunkSizeOrThreads() throws {
    let sim = try ScreenSimulator(
      config: SimFixtures.smallConfig(cellsPerGene: 3), complexes: SimFixtures.smallTable())
    let reference = try SimFixtures.collect(sim, chunkSize: sim.cellCount, threads: 1)
    #expect(reference.chunks.count == 1)
    for (chunkSize, threads) in [(1, 1), (7, 3), (16, 2), (17, 4)] {
      let other = try SimFixtures.collect(sim, chunkSize: chunkSize, threads: threads)
      #expect(other.chunks.count == (sim.cellCount + chunkSize - 1) / chunkSize)
      #expect(other.pixels == reference.pixels, "chunk \(chunkSize), threads \(threads)")
      #expect(other.chunks.flatMap(\.traits) == reference.chunks.flatMap(\.traits))
      #expect(other.chunks.flatMap(\.fociCount) == reference.chunks.flatMap(\.fociCount))
      #expect(other.chunks.flatMap(\.x) == reference.chunks.flatMap(\.x))
      #expect(other.gene == reference.gene && other.batch == reference.batch)
    }
  }

  @Test func chunksArriveInOrderWithConsistentShapes() throws {
    let sim = try ScreenSimulator(
      config: SimFixtures.smallConfig(cellsPerGene: 3), complexes: SimFixtures.smallTable())
    var done: [Int] = []
    var sink = CollectingSink()
    try sim.run(into: &sink, chunkSize: 10, threads: 2) { d, total in
      #expect(total == sim.cellCount)
      done.append(d)
    }
    #expect(done == Array(stride(from: 10, to: sim.cellCount, by: 10)) + [sim.cellCount])
    var next = 0
    for chunk in sink.chunks {
      #expect(chunk.start == next)
      next += chunk.count
      #expect(chunk.pixels.count == chunk.count * 4 * 16 * 16)
      #expect(chunk.crop(chunk.count - 1).count == chunk.cellStride)
      for dataset in chunk.datasets {
        let expected: Int
        switch dataset.values {
        case .int32(let v, let shape):
          expected = v.count
          #expect(shape.reduce(1, *) == v.count)
        case .float32(let v, let shape):
          expected = v.count
          #expect(shape.reduce(1, *) == v.count)
        case .strings(let v): expected = v.count
        }
        #expect(dataset.values.shape.first == chunk.count, "\(dataset.path)")
        #expect(expected >= chunk.count)
      }
    }
    #expect(next == sim.cellCount)
  }

  @Test func aRenderedRangeMatchesTheSameCellsOfTheWholeScreen() throws {
    let sim = try ScreenSimulator(
      config: SimFixtures.smallConfig(cellsPerGene: 3), complexes: SimFixtures.smallTable())
    let whole = try sim.render(cells: 0..<sim.cellCount, threads: 1)
    let part = try sim.render(cells: 5..<9, threads: 2)
    let stride = whole.cellStride
    #expect(part.pixels == Array(whole.pixels[(5 * stride)..<(9 * stride)]))
    #expect(part.gene == Array(whole.gene[5..<9]))
    #expect(
      throws: SimulationError.cellRange(lower: 0, upper: sim.cellCount + 1, count: sim.cellCount)
    ) {
      try sim.render(cells: 0..<(sim.cellCount + 1))
    }
    #expect(throws: SimulationError.cellRange(lower: -2, upper: 3, count: sim.cellCount)) {
      try sim.render(cells: -2..<3)
    }
    #expect(try sim.render(cells: 4..<4).count == 0)
  }

  @Test func sinkErrorsStopTheRun() throws {
    struct Failing: SimulationSink {
      var seen = 0
      struct Full: Error {}
      mutating func write(chunk: SimulatedChunk) throws {
        seen += 1
        if seen == 2 { throw Full() }
      }
    }
    let sim = try ScreenSimulator(
      config: SimFixtures.smallConfig(cellsPerGene: 2), complexes: SimFixtures.smallTable())
    var sink = Failing()
    #expect(throws: Failing.Full.self) { try sim.run(into: &sink, chunkSize: 4) }
    #expect(sink.seen == 2)
    var other = CollectingSink()
    #expect(throws: SimulationError.invalidArgument(name: "chunk size", value: 0)) {
      try sim.run(into: &other, chunkSize: 0)
    }
    #expect(throws: SimulationError.invalidArgument(name: "threads", value: 0)) {
      try sim.run(into: &other, threads: 0)
    }
  }
}

/// Guards the reproducibility contract across builds and platforms: a fixed small screen must
/// keep its exact bytes. The checksum changes only when the rendering is changed on purpose; then
/// update it here and regenerate the figures of Evaluation/simulator.md.
@Suite struct SimulationGoldenTests {
  @Test func aFixedScreenKeepsItsBytes() throws {
    let sim = try ScreenSimulator(
      config: SimFixtures.smallConfig(size: 24, cellsPerGene: 2, seed: 2024),
      complexes: SimFixtures.smallTable())
    let sink = try SimFixtures.collect(sim, chunkSize: 5, threads: 2)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(sink.pixels.count * 2)
    for v in sink.pixels { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    let labels =
      sink.gene.map { UInt8(truncatingIfNeeded: $0) }
      + sink.batch.map { UInt8(truncatingIfNeeded: $0) }
    #expect(sink.count == 22)
    #expect(PNGWriter.crc32(labels) == 0xC17C_8F1D)
    #expect(PNGWriter.crc32(bytes) == 0x87A6_0885)
  }
}
