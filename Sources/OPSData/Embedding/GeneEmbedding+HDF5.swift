extension GeneEmbedding {
  /// Reads `/embedding`, `/genes` and the `source` attribute.
  static func readHDF5(_ path: String) throws -> GeneEmbedding {
    let file = try HDF5File.open(path)
    let root = try file.root
    guard try root.kind(of: "embedding") == .dataset else {
      if root.attributes.contains("format") {
        throw OPSDataError.invalidEmbedding(
          path: path, reason: "no /embedding dataset (this looks like a cell store)")
      }
      throw OPSDataError.invalidEmbedding(path: path, reason: "no /embedding dataset")
    }
    guard try root.kind(of: "genes") == .dataset else {
      throw OPSDataError.invalidEmbedding(path: path, reason: "no /genes dataset")
    }
    let matrix = try root.dataset("embedding")
    let shape = try matrix.shape
    guard shape.count == 2 else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "/embedding has shape \(shape), expected [genes, d]")
    }
    let genes = try root.dataset("genes").readStrings()
    guard genes.count == shape[0] else {
      throw OPSDataError.invalidEmbedding(
        path: path, reason: "/genes has \(genes.count) names for \(shape[0]) rows of /embedding")
    }
    let source = root.attributes.contains("source") ? try root.attributes.string("source") : ""
    do {
      return try GeneEmbedding(
        genes: genes, values: try matrix.read(as: Float.self), dimension: shape[1], source: source)
    } catch let error as OPSDataError {
      throw OPSDataError.invalidEmbedding(path: path, reason: error.description)
    }
  }

  /// Writes `/embedding`, `/genes`, the `source` attribute and the provenance attributes.
  func writeHDF5(_ path: String, annotations: EmbeddingAnnotations = EmbeddingAnnotations()) throws {
    let file = try HDF5File.create(path)
    let root = try file.root
    try root.write("embedding", values, shape: [count, dimension])
    try root.writeStrings("genes", genes)
    try annotations.provenance.write(to: root)
    try root.attributes.set("source", source)
    try file.commit()
  }
}
