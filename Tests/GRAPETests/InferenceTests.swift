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
    let x = t.apply(try src.pixels(Array(0..<24)), shape: [24, 4, 16, 16])
    // With the 0th and 100th percentiles every channel spans exactly [0, 1].
    #expect(abs(x.max().item - 1) < 1e-5)
    let perChannelMin = x.permuted([1, 0, 2, 3]).reshaped([4, -1]).scalars
    #expect(abs((perChannelMin.min() ?? 1)) < 1e-5)
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
}
