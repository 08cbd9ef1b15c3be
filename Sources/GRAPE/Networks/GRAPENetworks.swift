import GrapeSupport
import NeuralNet
import TensorCore

/// All networks of a GRAPE model, named as the contract lists them: `gene_embedding`,
/// `mapping_network`, `generator`, `style_encoder`, `discriminator`.
///
/// The EMA copy used for inference has the same tree without the discriminator.
public final class GRAPENetworks: Module {
  /// M: one learned row per gene.
  public let geneEmbedding: Embedding
  /// F: gene embedding → style code.
  public let mappingNetwork: MappingNetwork
  /// G.
  public let generator: Generator
  /// E.
  public let styleEncoder: StyleEncoder
  /// D (absent from the EMA copy).
  public let discriminator: Discriminator?

  /// Builds the networks of `config` with weights drawn from `rng` (He normal for conv and
  /// linear weights, zero biases, M ~ N(0, embedding_init_std²)).
  public init(config c: GRAPEConfig, withDiscriminator: Bool = true, rng: inout RandomGenerator) {
    let g = max(c.genes.count, 1)
    geneEmbedding = Embedding(g, c.latentDim, initializer: .normal(std: c.embeddingInitStd), rng: &rng)
    mappingNetwork = MappingNetwork(latentDim: c.latentDim, hiddenDim: c.mappingHidden, styleDim: c.styleDim, rng: &rng)
    generator = Generator(imageChannels: c.inChannels, dimIn: c.dimIn, maxConvDim: c.maxConvDim, styleDim: c.styleDim, rng: &rng)
    styleEncoder = StyleEncoder(
      imageSize: c.imgSize, imageChannels: c.inChannels, dimIn: c.dimIn, maxConvDim: c.maxConvDim, styleDim: c.styleDim, rng: &rng)
    discriminator = withDiscriminator
      ? Discriminator(imageSize: c.imgSize, imageChannels: c.inChannels, dimIn: c.dimIn, maxConvDim: c.maxConvDim, genes: g, rng: &rng)
      : nil
    super.init()
    if let std = c.discriminatorHeadsInitStd, let heads = discriminator?.headLayer {
      // Drawn after every other weight, so the rest of the initialisation does not change.
      heads.weight.value = std > 0 ? Tensor.randn(heads.weight.value.shape, std: std, using: &rng) : Tensor.zeros(heads.weight.value.shape)
    }
  }

  /// The style codes of genes: s = F(M[z]), [z.count, style].
  public func geneStyles(_ genes: [Int]) -> Tensor { mappingNetwork(geneEmbedding(genes)) }

  /// Parameter names of the modules the EMA covers (M, F, G, E).
  public func averagedParameters() -> [(String, Parameter)] {
    namedParameters().filter { !$0.0.hasPrefix("discriminator.") }
  }
}
