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

  /// Writes an AnnData file (on-disk format of anndata 0.8 and later: `encoding-type` and
  /// `encoding-version` attributes on every element).
  func writeH5AD(_ path: String) throws {
    let file = try HDF5File.create(path)
    let root = try file.root
    func encode(_ object: HDF5Object, _ type: String, _ version: String) throws {
      try object.attributes.set("encoding-type", type)
      try object.attributes.set("encoding-version", version)
    }
    try encode(root, "anndata", "0.1.0")
    try encode(try root.write("X", values, shape: [count, dimension]), "array", "0.2.0")
    for (name, index) in [("obs", genes), ("var", (0..<dimension).map { "dim_\($0)" })] {
      let group = try root.createGroup(name)
      try encode(group, "dataframe", "0.2.0")
      try group.attributes.set("_index", "_index")
      try group.attributes.set("column-order", [] as [Double])
      try encode(try group.writeStrings("_index", index), "string-array", "0.2.0")
    }
    for name in ["layers", "obsm", "obsp", "varm", "varp"] {
      try encode(try root.createGroup(name), "dict", "0.1.0")
    }
    let uns = try root.createGroup("uns")
    try encode(uns, "dict", "0.1.0")
    try encode(try uns.writeString("source", source), "string", "0.2.0")
    try file.commit()
  }
}
