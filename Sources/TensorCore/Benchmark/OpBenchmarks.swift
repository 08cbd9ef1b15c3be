import GrapeSupport
#if canImport(Glibc)
  import Glibc
#endif

/// One benchmark figure, printed by `grape bench` as a JSON line.
public struct BenchmarkRecord: Sendable, Equatable {
  /// The benchmark family ("ops", "train", "evaluate").
  public var bench: String
  /// What was measured ("conv2d_forward", …).
  public var metric: String
  /// The figure.
  public var value: Double
  /// Its unit ("GFLOP/s", "ms", "img/s").
  public var unit: String
  /// Extra descriptive fields (shapes, preset), printed as strings or numbers.
  public var fields: [(String, String)]

  public init(bench: String, metric: String, value: Double, unit: String, fields: [(String, String)] = []) {
    self.bench = bench
    self.metric = metric
    self.value = value
    self.unit = unit
    self.fields = fields
  }

  public static func == (a: BenchmarkRecord, b: BenchmarkRecord) -> Bool {
    a.bench == b.bench && a.metric == b.metric && a.value == b.value && a.unit == b.unit
  }

  /// The record as one JSON object on one line; `fields` are emitted after `bench`.
  public var jsonLine: String {
    var parts = ["\"bench\": \(jsonString(bench))"]
    for (k, v) in fields {
      parts.append("\(jsonString(k)): \(Double(v) != nil ? v : jsonString(v))")
    }
    let rounded = (value * 1000).rounded() / 1000
    parts.append("\"metric\": \(jsonString(metric))")
    parts.append("\"value\": \(rounded.isFinite ? "\(rounded)" : "null")")
    parts.append("\"unit\": \(jsonString(unit))")
    return "{" + parts.joined(separator: ", ") + "}"
  }
}

/// Median time in seconds of `body` over `repeats` runs after `warmup` runs.
public func medianTime(repeats: Int = 5, warmup: Int = 1, _ body: () -> Void) -> Double {
  for _ in 0..<warmup { body() }
  var times: [Double] = []
  for _ in 0..<max(repeats, 1) {
    let t0 = monotonicSeconds()
    body()
    times.append(monotonicSeconds() - t0)
  }
  times.sort()
  return times[times.count / 2]
}

/// Kernel throughput: the sgemm ceiling and convolutions at the `cpu` preset's shapes.
public enum OpBenchmarks {
  /// A convolution shape to measure.
  public struct ConvCase: Sendable {
    public var batch, inChannels, outChannels, size, kernel, stride, padding: Int
    public init(batch: Int, inChannels: Int, outChannels: Int, size: Int, kernel: Int = 3, stride: Int = 1, padding: Int = 1) {
      self.batch = batch
      self.inChannels = inChannels
      self.outChannels = outChannels
      self.size = size
      self.kernel = kernel
      self.stride = stride
      self.padding = padding
    }
  }

  /// The convolutions of the `cpu` preset's generator and discriminator at batch 16.
  public static let cpuPresetCases: [ConvCase] = [
    ConvCase(batch: 16, inChannels: 32, outChannels: 32, size: 32),
    ConvCase(batch: 16, inChannels: 64, outChannels: 64, size: 16),
    ConvCase(batch: 16, inChannels: 128, outChannels: 128, size: 16),
    ConvCase(batch: 16, inChannels: 128, outChannels: 128, size: 8),
    ConvCase(batch: 16, inChannels: 256, outChannels: 256, size: 4),
  ]

  /// Runs the op benchmarks and returns one record per figure.
  public static func run(repeats: Int = 5, cases: [ConvCase] = cpuPresetCases) -> [BenchmarkRecord] {
    var records: [BenchmarkRecord] = []
    var rng = RandomGenerator(seed: 1)
    // sgemm ceiling: a square product large enough to reach steady state.
    let n = 1024
    let a = Tensor.randn([n, n], using: &rng)
    let b = Tensor.randn([n, n], using: &rng)
    let tg = medianTime(repeats: repeats) { _ = matmul(a, b) }
    records.append(BenchmarkRecord(
      bench: "ops", metric: "sgemm", value: 2 * Double(n * n * n) / tg / 1e9, unit: "GFLOP/s",
      fields: [("shape", "\(n)x\(n)x\(n)"), ("threads", "\(Parallel.threads)")]))
    for c in cases {
      let x = Tensor.randn([c.batch, c.inChannels, c.size, c.size], using: &rng)
      let w = Tensor.randn([c.outChannels, c.inChannels, c.kernel, c.kernel], std: 0.05, using: &rng).requiringGrad()
      let geo = Conv2dGeometry(
        batch: c.batch, inChannels: c.inChannels, height: c.size, width: c.size, outChannels: c.outChannels,
        kernelH: c.kernel, kernelW: c.kernel, stride: c.stride, padding: c.padding)
      let label = "N\(c.batch) \(c.inChannels)->\(c.outChannels) \(c.size)x\(c.size) k\(c.kernel) s\(c.stride)"
      let tf = medianTime(repeats: repeats) { _ = withoutGradient { conv2d(x, weight: w, stride: c.stride, padding: c.padding) } }
      records.append(BenchmarkRecord(
        bench: "ops", metric: "conv2d_forward", value: geo.flops / tf / 1e9, unit: "GFLOP/s",
        fields: [("shape", label), ("ms", String((tf * 1e5).rounded() / 100))]))
      let xg = x.requiringGrad()
      let tfb = medianTime(repeats: repeats) {
        let y = conv2d(xg, weight: w, stride: c.stride, padding: c.padding)
        _ = gradients(of: y, wrt: [xg, w], seed: y.detached())
      }
      records.append(BenchmarkRecord(
        bench: "ops", metric: "conv2d_forward_backward", value: 3 * geo.flops / tfb / 1e9, unit: "GFLOP/s",
        fields: [("shape", label), ("ms", String((tfb * 1e5).rounded() / 100))]))
    }
    return records
  }
}
