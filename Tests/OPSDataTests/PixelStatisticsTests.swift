import GrapeSupport
import TensorCore
import Testing

@testable import OPSData

/// numpy's default percentile (linear interpolation between order statistics), computed naively.
private func naivePercentile(_ values: [Double], _ q: Double) -> Double {
  let sorted = values.sorted()
  let position = q * Double(sorted.count - 1)
  let lower = Int(position.rounded(.down))
  let upper = min(lower + 1, sorted.count - 1)
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
}

@Suite struct PixelStatisticsTests {
  @Test func integerQuantilesAreExact() {
    var generator = RandomGenerator(seed: 4)
    let values = (0..<10_007).map { _ in
      UInt16(generator.int(below: 3000) + (generator.uniform() < 0.01 ? 60000 : 0))
    }
    var counter = ChannelQuantiles(pixelType: .uint16)
    var other = ChannelQuantiles(pixelType: .uint16)
    values[..<5000].withUnsafeBufferPointer { counter.add($0) }
    values[5000...].withUnsafeBufferPointer { other.add($0) }
    counter.merge(other)
    let quantiles = [0.0, 0.001, 0.5, 0.999, 1.0]
    let expected = quantiles.map { naivePercentile(values.map(Double.init), $0) }
    #expect(counter.values(quantiles: quantiles) == expected)
  }

  @Test func floatQuantilesAreExactAfterRefinement() {
    var generator = RandomGenerator(seed: 5)
    let values = (0..<20_000).map { _ in Float(generator.normal(mean: -3, std: 50)) }
    var parts = [ChannelQuantiles(pixelType: .float32), ChannelQuantiles(pixelType: .float32)]
    values[..<7000].withUnsafeBufferPointer { parts[0].add($0) }
    values[7000...].withUnsafeBufferPointer { parts[1].add($0) }
    var counter = parts[0]
    counter.merge(parts[1])
    #expect(counter.needsRefinement)
    let quantiles = [0.001, 0.25, 0.999]
    counter.prepareRefinement(quantiles: quantiles)
    var fineParts = [counter.emptyRefinement(), counter.emptyRefinement()]
    values[..<12000].withUnsafeBufferPointer { fineParts[0].addFine($0) }
    values[12000...].withUnsafeBufferPointer { fineParts[1].addFine($0) }
    for part in fineParts { counter.mergeFine(part) }
    let expected = quantiles.map { naivePercentile(values.map(Double.init), $0) }
    #expect(counter.values(quantiles: quantiles) == expected)
  }

  @Test func sortableKeysPreserveOrder() {
    let values: [Float] = [
      -.infinity, -1e30, -2, -1, -Float.leastNonzeroMagnitude, -0.0, 0, Float.leastNonzeroMagnitude,
      1, 2, 1e30, .infinity,
    ]
    let keys = values.map(ChannelQuantiles.key)
    #expect(keys == keys.sorted())
    #expect(
      values.allSatisfy {
        ChannelQuantiles.float(fromKey: ChannelQuantiles.key($0)).bitPattern == $0.bitPattern
      })
  }

  @Test func runningMomentsMatchTwoPassFormulas() {
    var generator = RandomGenerator(seed: 6)
    let values = (0..<5000).map { _ in 30_000 + generator.normal(mean: 0, std: 3) }
    var moments = RunningMoments()
    var other = RunningMoments()
    moments.add(values[..<1234])
    other.add(values[1234...])
    moments.merge(other)
    let mean = values.reduce(0, +) / Double(values.count)
    let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count))
      .squareRoot()
    #expect(abs(moments.mean - mean) < 1e-9)
    #expect(abs(moments.standardDeviation - std) < 1e-9)
    #expect(moments.count == 5000)
  }

  /// The one quantile rule (import, the training input transform, summaries, pictures) is
  /// numpy's linear interpolation: `np.quantile([3, 1, 4, 1, 5, 9, 2, 6], [0, 0.001, 0.25,
  /// 0.5, 0.999, 1])` gives 1, 1, 1.75, 3.5, 8.979, 9.
  @Test func linearQuantileMatchesNumpy() {
    let sorted: [Float] = [3, 1, 4, 1, 5, 9, 2, 6].sorted()
    let expected = [1.0, 1.0, 1.75, 3.5, 8.979, 9.0]
    for (q, want) in zip([0, 0.001, 0.25, 0.5, 0.999, 1], expected) {
      #expect(abs(linearQuantile(sorted: sorted, q) - want) < 1e-9, "q \(q)")
    }
    #expect(linearQuantile(sorted: [], 0.5).isNaN)
  }
}
