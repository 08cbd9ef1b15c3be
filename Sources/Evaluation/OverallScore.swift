/// One overall score weighed as scIB weighs it (Luecken et al. 2022): `0.4 · batch + 0.6 · bio`.
///
/// - batch: the mean of the batch-correction scores, each in [0, 1] with 1 best: batch ASW
///   (scIB's `silhouette_batch`), graph connectivity, and the kNN batch classifier turned into a
///   mixing score, `1 − (accuracy − chance) / (1 − chance)` clipped to [0, 1] (`chance` the
///   frequency of the most common batch: 1 when the classifier does no better than always naming
///   that batch, 0 when it names every cell's batch).
/// - bio: the mean of the gene-level biology scores: mAP, and the mean NMI and mean ARI of the
///   k-means runs at the main k (ARI clipped to [0, 1]).
///
/// A component that is undefined (`nil`) is left out of its mean and listed as such; a part
/// without any component is `nil`, and so is the overall score then.
public struct OverallScore: Sendable, Equatable {
  /// One averaged component.
  public struct Component: Sendable, Equatable {
    /// Its key (`asw`, `graph_connectivity`, `knn_mixing`, `map`, `nmi`, `ari`).
    public let name: String
    /// Its value in [0, 1], `nil` when undefined.
    public let value: Double?
  }

  /// Weight of the batch part (0.4).
  public static let batchWeight = 0.4
  /// Weight of the bio part (0.6).
  public static let bioWeight = 0.6

  /// The batch components, in the order above.
  public let batchComponents: [Component]
  /// The bio components, in the order above.
  public let bioComponents: [Component]

  /// Mean of the defined batch components.
  public var batch: Double? { Self.mean(batchComponents) }
  /// Mean of the defined bio components.
  public var bio: Double? { Self.mean(bioComponents) }
  /// `0.4 · batch + 0.6 · bio`, `nil` unless both parts are defined.
  public var overall: Double? {
    guard let b = batch, let g = bio else { return nil }
    return Self.batchWeight * b + Self.bioWeight * g
  }

  /// The score of batch metrics and CORUM metrics.
  public init(batch: BatchMetrics, corum: CorumMetrics) {
    var mixing: Double?
    if let accuracy = batch.knnAccuracy, batch.chance < 1 {
      mixing = Self.mixingScore(accuracy: accuracy, chance: batch.chance)
    }
    batchComponents = [
      Component(name: "asw", value: batch.asw),
      Component(name: "graph_connectivity", value: batch.graphConnectivity),
      Component(name: "knn_mixing", value: mixing),
    ]
    bioComponents = [
      Component(name: "map", value: corum.map),
      Component(name: "nmi", value: corum.kmeans?.nmi.mean),
      Component(name: "ari", value: corum.kmeans.map { min(1, max(0, $0.ari.mean)) }),
    ]
  }

  /// `1 − (accuracy − chance) / (1 − chance)` clipped to [0, 1]; needs `chance < 1`.
  public static func mixingScore(accuracy: Double, chance: Double) -> Double {
    precondition(chance < 1)
    return min(1, max(0, 1 - (accuracy - chance) / (1 - chance)))
  }

  private static func mean(_ components: [Component]) -> Double? {
    let values = components.compactMap(\.value)
    return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
  }
}
