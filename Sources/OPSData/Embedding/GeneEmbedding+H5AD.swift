extension GeneEmbedding {
  /// Reads `X` (dense) and the `obs` index of an AnnData file.
  static func readH5AD(_ path: String) throws -> GeneEmbedding {
    let file = try HDF5File.open(path)
    let root = try file.root
    switch try root.kind(of: "X") {
    case .dataset?: break
    case .group?:
      let encoding = (try? root.group("X").attributes.string("encoding-type")) ?? "a group"
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "X is \(encoding); only dense X is supported")
    default:
      throw OPSDataError.invalidEmbedding(path: path, reason: "no X matrix (not an AnnData file?)")
    }
    let x = try root.dataset("X")
    let shape = try x.shape
    guard shape.count == 2 else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "X has shape \(shape), expected [genes, d]")
    }
    guard try root.kind(of: "obs") == .group else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "obs is not a group (AnnData files before 0.7 are not supported)")
    }
    let obs = try root.group("obs")
    let indexName =
      obs.attributes.contains("_index") ? try obs.attributes.string("_index") : "_index"
    guard try obs.kind(of: indexName) == .dataset else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "obs has no index dataset '\(indexName)'")
    }
    let genes = try obs.dataset(indexName).readStrings()
    guard genes.count == shape[0] else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "obs index has \(genes.count) names for \(shape[0]) rows of X")
    }
    var source = ""
    if try root.kind(of: "uns/source") == .dataset {
      source = (try? root.dataset("uns/source").readString()) ?? ""
    }
    do {
      return try GeneEmbedding(
        genes: genes, values: try x.read(as: Float.self), dimension: shape[1], source: source)
    } catch let error as OPSDataError {
      throw OPSDataError.invalidEmbedding(path: path, reason: error.description)
    }
  }
}
