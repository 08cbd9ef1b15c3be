/// The `q`-quantile (`q` in 0...1) of values sorted in ascending order, interpolated linearly
/// between the two order statistics around rank q·(n − 1), as `numpy.quantile` does by default.
/// The one quantile rule of the toolkit: import's percentile normalisation, the input transform
/// chosen at training time, store summaries and picture stretches all use it. NaN when empty.
public func linearQuantile(sorted values: [Float], _ q: Double) -> Double {
  guard !values.isEmpty else { return .nan }
  let r = ChannelQuantiles.ranks(count: values.count, quantiles: [min(max(q, 0), 1)])[0]
  let low = Double(values[r.lower])
  return low + (Double(values[r.upper]) - low) * r.fraction
}
