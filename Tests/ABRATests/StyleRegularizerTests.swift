import Training
import GrapeSupport
import Foundation
import GRAPE
import NeuralNet
import TensorCore
import TestSupport
import Testing

@testable import ABRA

@Suite struct StyleRegularizerTests {
  func tinyGRAPEConfig(genes: [String], steps: Int) throws -> GRAPEConfig {
    var c = try GRAPEConfig.preset("tiny")
    c.genes = genes
    c.channels = ["DNA", "actin"]
    c.inChannels = 2
    c.steps = steps
    c.checkpointEvery = 2
    c.logEvery = 1
    c.seed = 11
    c.abra = true
    return c
  }

  func screen() -> InMemoryCellSource { syntheticScreen(genes: 3, batches: 2, cellsPerGeneAndBatch: 4, size: 16) }

  @Test(arguments: ["tiny", "cpu"])
  func featureChannelsMatchTheStyleEncoder(preset: String) throws {
    let c = try GRAPEConfig.preset(preset)
    var rng = RandomGenerator(seed: 0)
    let e = StyleEncoder(imageSize: c.imgSize, imageChannels: c.inChannels, dimIn: c.dimIn, maxConvDim: c.maxConvDim, styleDim: c.styleDim, rng: &rng)
    #expect(styleEncoderFeatureChannels(imageSize: c.imgSize, dimIn: c.dimIn, maxConvDim: c.maxConvDim) == e.featureChannels)
  }

  @Test func featureChannelsOfTheLargerPresets() {
    // cpu64: 64 px → 4 down blocks, 32 → 64 → 128 → 256 → 256; paper: 96 px → 4 blocks, 64 → … → 512.
    #expect(styleEncoderFeatureChannels(imageSize: 64, dimIn: 32, maxConvDim: 256) == 256)
    #expect(styleEncoderFeatureChannels(imageSize: 96, dimIn: 64, maxConvDim: 512) == 512)
    #expect(styleEncoderFeatureChannels(imageSize: 16, dimIn: 8, maxConvDim: 32) == 32)
    #expect(styleEncoderFeatureChannels(imageSize: 16, dimIn: 8, maxConvDim: 64) == 32)
  }

  @Test func parameterNamesAndShapesAreTheContracts() throws {
    let src = screen()
    let c = try tinyGRAPEConfig(genes: src.geneNames, steps: 1)
    let r = try ABRAStyleRegularizer(config: c)
    let channels = styleEncoderFeatureChannels(imageSize: c.imgSize, dimIn: c.dimIn, maxConvDim: c.maxConvDim)
    let saved = Dictionary(uniqueKeysWithValues: r.savedParameters.map { ($0.0, $0.1.shape) })
    #expect(saved == [
      "abra.k_mu": [1, channels, 1, 1], "abra.k_sigma": [1, channels, 1, 1], "aux_head.cls.weight": [3, c.styleDim],
      "aux_head.cls.bias": [3], "aux_head.arc_w": [3, c.styleDim],
    ])
    #expect(r.descendedParameters.map(\.0).sorted() == ["aux_head.arc_w", "aux_head.cls.bias", "aux_head.cls.weight"])
  }

  @Test func lossUpdatesKAndTrainsTheEncoderAndHeads() throws {
    let src = screen()
    let c = try tinyGRAPEConfig(genes: src.geneNames, steps: 1)
    let r = try ABRAStyleRegularizer(config: c)
    var rng = RandomGenerator(seed: 2)
    let nets = GRAPENetworks(config: c, withDiscriminator: false, rng: &rng)
    let cells = [0, 4, 8, 1]  // plate 0, genes 0, 1, 2, 0
    let x = Tensor(try src.pixels(cells), shape: [4] + src.imageShape)
    let k0 = r.abra.kMu.value.scalars
    let (loss, logged) = r.loss(images: x, genes: cells.map { src.geneOfCell[$0] }, encoder: nets.styleEncoder, styles: nets.mappingNetwork(nets.geneEmbedding.weight.value))
    #expect(r.abra.kMu.value.scalars != k0)
    #expect(Set(logged.keys) == Set(ABRAStyleRegularizer.loggedNames))
    #expect(logged.values.allSatisfy { $0.isFinite })
    let trainedByLoss = nets.styleEncoder.parameters().map(\.value) + r.descendedParameters.map(\.1.value)
    let grads = gradients(of: loss, wrt: trainedByLoss)
    #expect(grads.allSatisfy { $0.abs().sum().item > 0 }, "every encoder and head parameter takes a gradient")
    // The same batch and K give the same noise: the loss is a function of the state.
    let r2 = try ABRAStyleRegularizer(config: c)
    r2.abra.kMu.assign(r.abra.kMu.value)
    r2.abra.kSigma.assign(r.abra.kSigma.value)
    r.abra.kMu.assign(Tensor.full(r.abra.kMu.shape, 0.1))
    r.abra.kSigma.assign(Tensor.full(r.abra.kSigma.shape, 0.1))
    r2.abra.kMu.assign(Tensor.full(r.abra.kMu.shape, 0.1))
    r2.abra.kSigma.assign(Tensor.full(r.abra.kSigma.shape, 0.1))
    let a = r.loss(images: x, genes: cells.map { src.geneOfCell[$0] }, encoder: nets.styleEncoder, styles: nets.mappingNetwork(nets.geneEmbedding.weight.value)).0.item
    let b = r2.loss(images: x, genes: cells.map { src.geneOfCell[$0] }, encoder: nets.styleEncoder, styles: nets.mappingNetwork(nets.geneEmbedding.weight.value)).0.item
    #expect(a == b)
  }

  /// `abra_head: alignment`: ABRA classifies the codes against the genes' styles F(M) at the
  /// alignment's scale. With K = 0 the perturbed features equal the clean ones, so the logged CE
  /// is the alignment's cross-entropy; the loss trains E, M and F, not the auxiliary heads.
  @Test func alignmentHeadClassifiesAgainstTheStyles() throws {
    let src = screen()
    var c = try tinyGRAPEConfig(genes: src.geneNames, steps: 1)
    c.abraHead = .alignment
    c.abraStepSize = 0
    let r = try ABRAStyleRegularizer(config: c)
    #expect(r.head == .alignment && r.descendedParameters.isEmpty)
    r.abra.kMu.assign(Tensor.zeros(r.abra.kMu.shape))
    r.abra.kSigma.assign(Tensor.zeros(r.abra.kSigma.shape))
    var rng = RandomGenerator(seed: 4)
    let nets = GRAPENetworks(config: c, withDiscriminator: false, rng: &rng)
    let cells = [0, 4, 8, 1]
    let genes = cells.map { src.geneOfCell[$0] }
    let x = Tensor(try src.pixels(cells), shape: [4] + src.imageShape)
    let styles = nets.mappingNetwork(nets.geneEmbedding.weight.value)
    let (loss, logged) = r.loss(images: x, genes: genes, encoder: nets.styleEncoder, styles: styles)
    let alignment = GRAPEStep.styleAlignment(codes: nets.styleEncoder(x), networks: nets, genes: genes, scale: c.styleAlignScale).loss
    #expect(abs(try #require(logged["abra_ce"]) - alignment.item) < 1e-4)
    #expect(abs(try #require(logged["abra_js"])) < 1e-6)
    let trained = [nets.geneEmbedding.weight.value] + nets.mappingNetwork.parameters().map(\.value) + nets.styleEncoder.parameters().map(\.value)
    let grads = gradients(of: loss, wrt: trained + r.auxHead.parameters().map(\.value))
    #expect(grads[..<trained.count].allSatisfy { $0.abs().sum().item > 0 }, "E, M and F take a gradient")
    #expect(grads[trained.count...].allSatisfy { $0.abs().sum().item == 0 }, "the auxiliary heads take none")
  }

  @Test func grapeTrainerWithABRAWritesTheNamedWeightsAndResumesExactly() throws {
    let src = screen()
    let c = try tinyGRAPEConfig(genes: src.geneNames, steps: 4)
    let all = Array(0..<src.cellCount)
    let full = temporaryDirectory("grape-full")
    let a = try GRAPETrainer(
      config: c, source: src, sampler: PlateBalancedSampler(source: src, cells: all, batchSize: 4, seed: 3), run: RunFolder(path: full),
      regularizer: try ABRAStyleRegularizer(config: c))
    var extras: [String: Float] = [:]
    try a.train { event in
      if case .step(_, _, _, _, let losses) = event { extras = losses.extra }
    }
    // ABRA's values, and D's gene classification of the CPU recipe (`lambda_d_cls`).
    #expect(c.lambdaDCls > 0)
    #expect(Set(extras.keys) == Set(ABRAStyleRegularizer.loggedNames + ["d_cls"]))
    let header = try String(contentsOfFile: RunFolder(path: full).logPath, encoding: .utf8).prefix { $0 != "\n" }
    #expect(header.split(separator: "\t").map(String.init).suffix(8) == (ABRAStyleRegularizer.loggedNames + ["d_cls"]).sorted())
    let ckpt = try #require(try RunFolder(path: full).latestCheckpoint())
    let weights = try SafeTensors.read("\(ckpt)/weights.safetensors").tensors
    let channels = styleEncoderFeatureChannels(imageSize: c.imgSize, dimIn: c.dimIn, maxConvDim: c.maxConvDim)
    #expect(weights["abra.k_mu"]?.shape == [1, channels, 1, 1])
    #expect(weights["abra.k_sigma"]?.shape == [1, channels, 1, 1])
    #expect(weights["aux_head.cls.weight"]?.shape == [3, c.styleDim])
    #expect(weights["aux_head.cls.bias"]?.shape == [3])
    #expect(weights["aux_head.arc_w"]?.shape == [3, c.styleDim])
    #expect(weights["abra.k_mu"]?.scalars != [Float](repeating: 0.1, count: channels))
    let ema = try SafeTensors.read("\(ckpt)/weights_ema.safetensors").tensors
    #expect(!ema.keys.contains { $0.hasPrefix("abra.") || $0.hasPrefix("aux_head.") })
    let opt = try SafeTensors.read("\(ckpt)/optimizer.safetensors").tensors
    #expect(opt["aux_head.arc_w.exp_avg"]?.shape == [3, c.styleDim])

    // Stop at 2, resume to 4: the same weights, K and heads as the uninterrupted run.
    var half = c
    half.steps = 2
    let part = temporaryDirectory("grape-part")
    try GRAPETrainer(
      config: half, source: src, sampler: PlateBalancedSampler(source: src, cells: all, batchSize: 4, seed: 3), run: RunFolder(path: part),
      regularizer: try ABRAStyleRegularizer(config: half)
    ).train()
    let rb = try ABRAStyleRegularizer(config: c)
    let b = try GRAPETrainer(
      config: c, source: src, sampler: PlateBalancedSampler(source: src, cells: all, batchSize: 4, seed: 99), run: RunFolder(path: part),
      regularizer: rb, resume: true)
    #expect(b.step == 2)
    try b.train()
    let wb = try SafeTensors.read("\(try #require(try RunFolder(path: part).latestCheckpoint()))/weights.safetensors").tensors
    #expect(Set(weights.keys) == Set(wb.keys))
    for (k, v) in weights { assertClose(try #require(wb[k]), v, rtol: 0, atol: 0, k) }
  }
}
