import GrapeSupport
import NeuralNet
import TensorCore

/// `grape bench train`: full GRAPE iterations (D step with R1, G step, EMA) on random data.
public enum TrainBenchmark {
  /// Runs `warmup` untimed and `steps` timed iterations of `preset` and returns the figures:
  /// images/s, ms per iteration, CPU seconds per iteration (user + system, all threads; the
  /// figure that other jobs on the machine do not inflate) and the split into D step, R1, G step and EMA, achieved
  /// GFLOP/s of GEMMs and convolutions, and peak resident memory.
  public static func run(
    preset: GRAPEPreset, steps: Int, warmup: Int = 2, genes: Int = 106, batchSize: Int? = nil, r1Every: Int? = nil, cycleEvery: Int? = nil,
    regularizer: ((GRAPEConfig) throws -> StyleEncoderRegularizer)? = nil
  ) throws -> [BenchmarkRecord] {
    var c = GRAPEConfig.preset(preset)
    c.genes = (0..<genes).map { "gene\($0)" }
    c.channels = ["DNA", "DNA damage", "microtubules", "F-actin"]
    if let batchSize { c.batchSize = batchSize }
    (c.r1Every, c.cycleEvery) = (r1Every, cycleEvery)
    c.abra = regularizer != nil
    // GRAPE's iteration as the PyTorch reference runs it (DESIGN.md "Performance targets"),
    // without the CPU presets' alignment of real cells.
    c.lambdaStyleAlign = 0
    c.styleAlignSteps = nil
    var rng = RandomGenerator(seed: 1)
    let nets = GRAPENetworks(config: c, rng: &rng)
    var emaRng = RandomGenerator(seed: 2)
    let ema = GRAPENetworks(config: c, withDiscriminator: false, rng: &emaRng)
    let reg = try regularizer?(c)
    let opt = GRAPEOptimizers(networks: nets, config: c, regularizer: reg)
    let shape = [c.batchSize, c.inChannels, c.imgSize, c.imgSize]
    // A few random batches made up front, so drawing random numbers is not timed.
    let pool = (0..<4).map { _ in
      GRAPEBatch(
        images: Tensor.randn(shape, using: &rng), genes: (0..<c.batchSize).map { _ in rng.int(below: genes) },
        targets: (0..<c.batchSize).map { _ in rng.int(below: genes) }, batches: [Int](repeating: 0, count: c.batchSize))
    }
    var drawn = 0
    func batch() -> GRAPEBatch {
      drawn += 1
      return pool[drawn % pool.count]
    }
    var timings = StepTimings()
    var losses = StepLosses()
    func iteration(_ step: Int) {
      let b = batch()
      GRAPEStep.discriminator(nets, opt, batch: b, config: c, step: step, losses: &losses, timings: &timings)
      GRAPEStep.generator(nets, opt, batch: b, config: c, step: step, regularizer: reg, losses: &losses, timings: &timings)
      GRAPEStep.updateAverage(ema: ema, networks: nets, step: step, config: c, timings: &timings)
    }
    for i in 0..<warmup { iteration(i + 1) }
    timings = StepTimings()
    FlopCounter.reset()
    let t0 = monotonicSeconds()
    let cpu0 = ProcessCPUTime.seconds
    for i in 0..<steps { iteration(warmup + i + 1) }
    let seconds = monotonicSeconds() - t0
    let cpuSeconds = ProcessCPUTime.seconds - cpu0
    let flops = Double(FlopCounter.count)
    let n = Double(max(steps, 1))
    var fields: [(String, String)] = [("preset", preset.rawValue), ("abra", reg != nil ? "true" : "false"), ("batch", String(c.batchSize))]
    if let r1Every { fields.append(("r1_every", String(r1Every))) }
    if let cycleEvery { fields.append(("cycle_every", String(cycleEvery))) }
    func rec(_ metric: String, _ value: Double, _ unit: String) -> BenchmarkRecord {
      BenchmarkRecord(bench: "train", metric: metric, value: value, unit: unit, fields: fields)
    }
    return [
      rec("images_per_s", Double(steps * c.batchSize) / seconds, "img/s"),
      rec("ms_per_iteration", 1000 * seconds / n, "ms"),
      rec("cpu_s_per_iteration", cpuSeconds / n, "s"),
      rec("d_step_ms", 1000 * (timings.dStep - timings.r1) / n, "ms"),
      rec("r1_ms", 1000 * timings.r1 / n, "ms"),
      rec("g_step_ms", 1000 * timings.gStep / n, "ms"),
      rec("ema_ms", 1000 * timings.ema / n, "ms"),
      rec("gflops_per_s", flops / seconds / 1e9, "GFLOP/s"),
      rec("gflop_per_iteration", flops / n / 1e9, "GFLOP"),
      rec("peak_rss_mb", Double(ProcessMemory.peakResidentBytes) / 1_048_576, "MiB"),
    ]
  }
}
