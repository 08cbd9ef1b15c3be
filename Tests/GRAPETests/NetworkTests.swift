import Training
import GrapeSupport
import Testing
import TensorCore
import NeuralNet
import TestSupport
@testable import GRAPE

@Suite struct NetworkTests {
  @Test(arguments: ["tiny", "cpu", "cpu64", "paper"])
  func outputShapes(_ preset: String) throws {
    var c = try GRAPEConfig.preset(preset)
    c.genes = (0..<7).map { "g\($0)" }
    if preset == "paper" { c.dimIn = 8; c.maxConvDim = 32 }  // the shapes, not the size, matter here
    var rng = RandomGenerator(seed: 1)
    let n = GRAPENetworks(config: c, rng: &rng)
    let x = Tensor.randn([2, 4, c.imgSize, c.imgSize], using: &rng)
    let s = n.geneStyles([0, 6])
    #expect(s.shape == [2, c.styleDim])
    #expect(n.generator(x, style: s).shape == x.shape)
    #expect(n.styleEncoder(x).shape == [2, c.styleDim])
    #expect(n.discriminator?.logits(x).shape == [2, 7])
    #expect(n.discriminator?(x, genes: [3, 1]).shape == [2])
  }

  @Test func contractParameterNames() throws {
    let c = try tinyConfig(genes: 5)
    var rng = RandomGenerator(seed: 1)
    let names = Set(GRAPENetworks(config: c, rng: &rng).namedParameters().map(\.0))
    for expected in [
      "gene_embedding.weight", "mapping_network.net.0.weight", "mapping_network.net.2.bias", "mapping_network.net.4.weight",
      "generator.from_rgb.weight", "generator.encode.0.conv1.weight", "generator.encode.0.norm1.weight", "generator.encode.0.conv1x1.weight",
      "generator.encode.4.conv2.bias", "generator.decode.0.norm1.fc.weight", "generator.decode.4.conv1x1.weight",
      "generator.to_rgb.0.weight", "generator.to_rgb.2.weight", "style_encoder.trunk.0.weight", "style_encoder.trunk.2.conv1.weight",
      "style_encoder.head.1.weight", "style_encoder.fc.weight", "discriminator.main.0.weight", "discriminator.main.2.conv1x1.weight",
      "discriminator.main.4.weight", "discriminator.main.6.weight",
    ] {
      #expect(names.contains(expected), "missing \(expected)")
    }
    // R = log2(16) - 2 = 2 trunk blocks, so D's k×k conv is main.4 and the head conv main.6.
    #expect(!names.contains("discriminator.main.7.weight"))
    #expect(!names.contains("generator.decode.0.conv1x1.weight"))  // intermediate blocks keep channels
  }

  /// The decode ordering of StarGAN v2: intermediate blocks first, then up-sampling ones.
  @Test func decodeOrdering() throws {
    let c = try GRAPEConfig.preset("cpu")
    var rng = RandomGenerator(seed: 2)
    let g = Generator(imageChannels: 4, dimIn: c.dimIn, maxConvDim: c.maxConvDim, styleDim: c.styleDim, rng: &rng)
    #expect(g.decode.map(\.upsample) == [false, false, true, true, true])
    #expect(g.decode.map { $0.conv2.weight.shape[0] } == [256, 256, 128, 64, 32])
    #expect(g.encode.map { $0.conv2.weight.shape[0] } == [64, 128, 256, 256, 256])
  }

  @Test func imageSizesThatAreMultiplesOfEight() throws {
    var c = try tinyConfig()
    c.imgSize = 24  // R = 2, k = 6
    var rng = RandomGenerator(seed: 3)
    let n = GRAPENetworks(config: c, rng: &rng)
    let x = Tensor.randn([1, 4, 24, 24], using: &rng)
    #expect(n.discriminator?.logits(x).shape == [1, 3])
    #expect(n.styleEncoder.head[1] is Conv2d)
    #expect((n.styleEncoder.head[1] as? Conv2d)?.weight.shape == [32, 32, 6, 6])
  }

  @Test func configValidationNamesTheField() throws {
    var c = try tinyConfig()
    c.imgSize = 20
    #expect(throws: GRAPEError.invalidConfig("img_size must be a positive multiple of 8, got 20")) { try c.validate() }
    #expect(throws: GRAPEError.self) { try GRAPEConfig.preset("huge") }
    let patched = try tinyConfig().overridden(with: Data(#"{"lr": 0.001, "batch_size": 8}"#.utf8), source: "x.json")
    #expect(patched.lr == 0.001 && patched.batchSize == 8)
    #expect(throws: GRAPEError.self) { try tinyConfig().overridden(with: Data(#"{"learning_rate": 1}"#.utf8), source: "x.json") }
    // A number beyond a 32-bit float names its field instead of calling the file invalid JSON.
    let huge = #expect(throws: GRAPEError.self) { try tinyConfig().overridden(with: Data(#"{"lr": 1e39}"#.utf8), source: "x.json") }
    #expect(huge?.description.contains("field 'lr'") == true, "\(String(describing: huge))")
  }

  @Test func sizesBeyondAnyMemoryAreRefusedBeforeAllocating() throws {
    for (field, value) in [("batch_size", 100_000_000), ("latent_dim", 2_000_000_000)] {
      let c = try tinyConfig().overridden(with: Data(#"{"\#(field)": \#(value)}"#.utf8), source: "x.json")
      let e = #expect(throws: GRAPEError.self) { try c.validate() }
      #expect(e?.description.contains("\(field) \(value)") == true && e?.description.contains("GiB") == true, "\(String(describing: e))")
    }
    // Every preset fits a 16 GiB machine by this bound (the paper's needs about 14 GiB of it).
    for p in GRAPEPreset.allCases {
      var c = try GRAPEConfig.preset(p.rawValue)
      c.genes = (0..<5000).map { "G\($0)" }
      #expect(c.memoryFloor.shortfall(fields: p.rawValue, available: 16 * 1024 * 1024 * 1024) == nil)
    }
  }

  @Test func samplerFollowsABRAUnlessSet() throws {
    var c = try tinyConfig()
    #expect(!c.platesConsistentBatches)
    c.abra = true
    #expect(c.platesConsistentBatches)
    c = try c.overridden(with: Data(#"{"sampler": "class_balanced"}"#.utf8), source: "x.json")
    #expect(throws: GRAPEError.self) { try c.validate() }
    c.abra = false
    try c.validate()
    #expect(!c.platesConsistentBatches)
    c.sampler = .plate
    #expect(c.platesConsistentBatches)
    #expect(throws: GRAPEError.invalidConfig("x.json: sampler must be class_balanced or plate, got 'plates'")) {
      try c.overridden(with: Data(#"{"sampler": "plates"}"#.utf8), source: "x.json")
    }
  }

  @Test func configRoundTripsWithContractKeys() throws {
    let c = try tinyConfig()
    let json = try #require(String(data: try c.jsonData(), encoding: .utf8))
    for key in ["img_size", "in_channels", "dim_in", "max_conv_dim", "style_dim", "latent_dim", "mapping_hidden", "genes", "channels", "abra"] {
      #expect(json.contains("\"\(key)\""), "config.json lacks \(key)")
    }
    #expect(try GRAPEConfig.from(json: try c.jsonData(), source: "c") == c)
  }

  /// The CPU presets carry the CPU recipe; `paper` keeps GRAPE's own settings.
  @Test func presetsCarryTheirTrainingRecipe() throws {
    for name in ["tiny", "cpu", "cpu64"] {
      let c = try GRAPEConfig.preset(name)
      #expect(c.lr == 1e-3 && c.lrEmbedding == 1e-2 && c.embeddingInitStd == 0.01, "\(name)")
      #expect(c.lrDiscriminatorHeads == 1e-2 && c.discriminatorHeadsInitStd == 0 && c.lambdaDCls == 1, "\(name)")
      #expect(c.abraWeight == (name == "tiny" ? 1 : 0.3), "\(name)")
    }
    let paper = try GRAPEConfig.preset("paper")
    #expect(paper.lr == 1e-4 && paper.lrMapping == 1e-4 && paper.lrEmbedding == 1e-4 && paper.embeddingInitStd == 1)
    #expect(paper.lrDiscriminatorHeads == nil && paper.discriminatorHeadsInitStd == nil && paper.batchSize == 256 && paper.lambdaDCls == 0)
    #expect(paper.emaMode == .periodic && paper.emaBeta == 0.5 && paper.emaInterval == 2500)
    #expect(paper.abraWeight == 1)
  }

  /// `discriminator_heads_init_std` re-draws only D's head weights (after everything else, so the
  /// other weights are those of the default initialisation) and `lr_discriminator_heads` gives
  /// the heads an Adam group of their own.
  @Test func discriminatorHeadSettings() throws {
    var c = try tinyConfig()
    var rng = RandomGenerator(seed: 9)
    let plain = GRAPENetworks(config: c, rng: &rng)
    c.discriminatorHeadsInitStd = 0
    c.lrDiscriminatorHeads = 0.05
    rng = RandomGenerator(seed: 9)
    let zeroed = GRAPENetworks(config: c, rng: &rng)
    let head = try #require(zeroed.discriminator?.headLayer)
    #expect(head.weight.value.scalars.allSatisfy { $0 == 0 })
    let plainWeights = Dictionary(uniqueKeysWithValues: plain.namedParameters().map { ($0.0, $0.1.value.scalars) })
    let headName = "discriminator.main.\(try #require(zeroed.discriminator).main.layers.count - 1).weight"
    for (name, p) in zeroed.namedParameters() where name != headName {
      #expect(p.value.scalars == plainWeights[name], "\(name) changed")
    }
    let optimizers = GRAPEOptimizers(networks: zeroed, config: c)
    let groups = optimizers.discriminator.groups
    #expect(groups.count == 2 && groups[1].learningRate == 0.05 && groups[0].learningRate == c.lr)
    #expect(groups[1].parameters.map(\.0) == [headName, headName.replacingOccurrences(of: ".weight", with: ".bias")])
    c.discriminatorHeadsInitStd = -1
    #expect(throws: GRAPEError.self) { try c.validate() }
  }
}

import Foundation
