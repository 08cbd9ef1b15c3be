import Training
import GrapeSupport
import Foundation
import Testing
import TensorCore
import NeuralNet
import TestSupport
@testable import GRAPE

@Suite struct InferenceTests {
  @Test func encodeStyleMeansAndTransfer() throws {
    let src = tinySource()
    let c = try tinyConfig()
    var rng = RandomGenerator(seed: 3)
    let nets = GRAPENetworks(config: c, withDiscriminator: false, rng: &rng)
    nets.eval()
    let codes = try GRAPEInference.encode(nets, source: src, transform: .identity, batchSize: 5)
    #expect(codes.shape == [24, c.styleDim])
    // Batching does not change the codes.
    let one = try GRAPEInference.encode(nets, source: src, transform: .identity, indices: [7], batchSize: 1)
    assertClose(one, codes.slice(axis: 0, 7..<8), rtol: 1e-5, atol: 1e-5)
    let (means, counts) = try GRAPEInference.styleMeans(nets, source: src, transform: .identity)
    #expect(counts == [8, 8, 8])
    let gene1 = (0..<24).filter { $0 % 3 == 1 }
    assertClose(means.slice(axis: 0, 1..<2), codes.indexSelect(gene1).mean(axes: [0], keepDims: true), rtol: 1e-4, atol: 1e-5)
    let moved = try GRAPEInference.transfer(nets, source: src, transform: .identity, indices: [0, 5], gene: 2)
    #expect(moved.shape == [2, 4, 16, 16])
    #expect(GRAPEInference.embedding(nets).shape == [3, c.latentDim])
    #expect(GRAPEInference.mappedEmbedding(nets).shape == [3, c.styleDim])
  }

  @Test func affineInputTransformFromPercentiles() throws {
    let src = tinySource()
    var rng = RandomGenerator(seed: 1)
    let t = try InputTransform.percentile(of: src, sampleCells: 24, low: 0, high: 100, rng: &rng)
    let x = try src.inputs(Array(0..<24), transform: t)
    // With the 0th and 100th percentiles every channel spans exactly [0, 1].
    #expect(abs(x.max().item - 1) < 1e-5)
    let perChannelMin = x.permuted([1, 0, 2, 3]).reshaped([4, -1]).scalars
    #expect(abs((perChannelMin.min() ?? 1)) < 1e-5)
  }

  /// GRAPE's preprocessing: percentile mapping clipped to [0, 1], then each batch z-scored by
  /// its own control cells, checked against the formula computed here in Float64.
  @Test func controlsInputTransformZScoresEachBatchByItsControls() throws {
    // Batch b1 is twice as bright with an offset, as a batch effect; gene 0 is the control.
    let base = tinySource(cells: 30, genes: 3)
    var px = try base.pixels(Array(0..<30))
    let plane = 4 * 16 * 16
    for cell in 0..<30 where base.batchOfCell[cell] == 1 {
      for i in (cell * plane)..<((cell + 1) * plane) { px[i] = px[i] * 2 + 0.5 }
    }
    let src = InMemoryCellSource(
      pixels: px, imageShape: [4, 16, 16], genes: base.geneOfCell, batches: base.batchOfCell, geneNames: base.geneNames,
      batchNames: base.batchNames, floatPixels: false, controlGene: 0)
    var rng = RandomGenerator(seed: 4)
    let t = try InputTransform.controls(of: src, sampleCells: 30, rng: &rng)
    #expect(t.kind == .controls && t.batches?.map(\.name) == ["b0", "b1"] && t.batches?.allSatisfy(\.controls) == true)
    let x = try src.inputs(Array(0..<30), transform: t).scalars
    for b in 0..<2 {
      let controls = (0..<30).filter { src.batchOfCell[$0] == b && src.geneOfCell[$0] == 0 }
      for ch in 0..<4 {
        var raw: [Double] = [], out: [Double] = []
        for cell in controls {
          let start = (cell * 4 + ch) * 256
          raw += px[start..<(start + 256)].map { min(max(Double(($0 - t.offset[ch]) * t.scale[ch]), 0), 1) }
          out += x[start..<(start + 256)].map(Double.init)
        }
        let mean = raw.reduce(0, +) / Double(raw.count)
        let sd = (raw.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(raw.count)).squareRoot()
        let expected = raw.map { ($0 - mean) / sd }
        #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-3 }, "batch \(b) channel \(ch)")
        #expect(abs(out.reduce(0, +) / Double(out.count)) < 1e-3)
      }
    }
    // Values beyond the percentile range are clipped before the z-score.
    #expect(x.max()! <= (1 - t.batches![0].mean.min()!) / t.batches![0].std.min()! + 1e-4)
    // JSON round trip inside a configuration.
    var c = try tinyConfig()
    c.inputTransform = t
    #expect(try GRAPEConfig.from(json: try c.jsonData(), source: "test").inputTransform == t)
  }

  /// A `controls` transform meets batches it was not trained on: unbound it refuses them with a
  /// message naming the batch; bound to the new source it computes their statistics from that
  /// source's controls and keeps the recorded ones.
  @Test func controlsTransformBindsToNewBatches() throws {
    let base = tinySource(cells: 24, genes: 3)
    let px = try base.pixels(Array(0..<24))
    func source(_ names: [String]) -> InMemoryCellSource {
      InMemoryCellSource(
        pixels: px, imageShape: [4, 16, 16], genes: base.geneOfCell, batches: base.batchOfCell, geneNames: base.geneNames,
        batchNames: names, floatPixels: false, controlGene: 0)
    }
    var rng = RandomGenerator(seed: 5)
    let trained = try InputTransform.controls(of: source(["b0", "b1"]), rng: &rng)
    let other = source(["b0", "new"])
    #expect(throws: GRAPEError.self) { try other.inputs([1], transform: trained) }
    do {
      _ = try other.inputs([1], transform: trained)
    } catch {
      #expect("\(error)".contains("'new'"))
    }
    let bound = try trained.bound(to: other)
    #expect(bound.batches?.map(\.name) == ["b0", "b1", "new"])
    #expect(bound.batches?[0] == trained.batches?[0])
    // Same pixels and cells as b1, so the new batch gets b1's statistics.
    let b1 = try #require(trained.batches?[1]), fresh = try #require(bound.batches?[2])
    #expect(zip(b1.mean + b1.std, fresh.mean + fresh.std).allSatisfy { abs($0 - $1) < 1e-5 })
    #expect(try bound.bound(to: other) == bound)
  }

  /// A run folder made by hand (config.json, one checkpoint with weights and EMA weights,
  /// latest) is enough for inference, as with weights trained elsewhere.
  @Test func handMadeRunFolderLoads() throws {
    let dir = temporaryDirectory("hand")
    let c = try tinyConfig()
    var rng = RandomGenerator(seed: 11)
    let nets = GRAPENetworks(config: c, withDiscriminator: false, rng: &rng)
    let run = RunFolder(path: dir)
    try run.writeConfig(c)
    try FileManager.default.createDirectory(atPath: "\(dir)/checkpoints/mine", withIntermediateDirectories: true)
    try SafeTensors.write(nets.stateDict(), to: "\(dir)/checkpoints/mine/weights_ema.safetensors")
    try SafeTensors.write(nets.stateDict(), to: "\(dir)/checkpoints/mine/weights.safetensors")
    try "mine".write(toFile: "\(dir)/checkpoints/latest", atomically: true, encoding: .utf8)
    let (_, loaded) = try loadTrainedNetworks(run: run)
    assertClose(loaded.generator.fromRGB.weight.value, nets.generator.fromRGB.weight.value, rtol: 0, atol: 0)
    try FileManager.default.removeItem(atPath: "\(dir)/checkpoints/mine/weights_ema.safetensors")
    #expect(throws: GRAPEError.self) { try loadTrainedNetworks(run: run) }
    _ = try loadTrainedNetworks(run: run, useEMA: false)
  }

  /// A hand-written config.json with only the contract's fields (and a key of its own) loads;
  /// everything else takes GRAPE's defaults.
  @Test func minimalHandWrittenConfigLoads() throws {
    let dir = temporaryDirectory("minimal")
    let c = try tinyConfig()
    var rng = RandomGenerator(seed: 12)
    let nets = GRAPENetworks(config: c, withDiscriminator: false, rng: &rng)
    let genes = c.genes.map { "\"\($0)\"" }.joined(separator: ", ")
    let channels = c.channels.map { "\"\($0)\"" }.joined(separator: ", ")
    let json = """
      {"img_size": \(c.imgSize), "in_channels": \(c.inChannels), "dim_in": \(c.dimIn), "max_conv_dim": \(c.maxConvDim),
       "style_dim": \(c.styleDim), "latent_dim": \(c.latentDim), "mapping_hidden": \(c.mappingHidden),
       "genes": [\(genes)], "channels": [\(channels)], "abra": false, "trained_with": "pytorch"}
      """
    try FileManager.default.createDirectory(atPath: "\(dir)/checkpoints/mine", withIntermediateDirectories: true)
    try json.write(toFile: "\(dir)/config.json", atomically: true, encoding: .utf8)
    try SafeTensors.write(nets.stateDict(), to: "\(dir)/checkpoints/mine/weights_ema.safetensors")
    try SafeTensors.write(nets.stateDict(), to: "\(dir)/checkpoints/mine/weights.safetensors")
    try "mine\n".write(toFile: "\(dir)/checkpoints/latest", atomically: true, encoding: .utf8)
    let (config, loaded) = try loadTrainedNetworks(run: RunFolder(path: dir))
    #expect(config.genes == c.genes && config.dimIn == c.dimIn && config.inputTransform == nil)
    assertClose(loaded.generator.fromRGB.weight.value, nets.generator.fromRGB.weight.value, rtol: 0, atol: 0)
  }
}
