/// Writes the parts of an AnnData `.h5ad` file: every element gets the `encoding-type` and
/// `encoding-version` attributes that `anndata.read_h5ad` (0.8 and later) dispatches on.
enum AnnDataWriter {
  /// Marks `object` as an element of `type` and `version`.
  static func encode(_ object: HDF5Object, _ type: String, _ version: String) throws {
    try object.attributes.set("encoding-type", type)
    try object.attributes.set("encoding-version", version)
  }

  /// Writes the root of a file: `X` [rows, columns] float32, the `obs` and `var` frames and
  /// empty `layers`, `obsm`, `obsp`, `varm`, `varp`; `uns` is left to ``writeUns(_:source:in:)``.
  static func writeMatrix(
    _ root: HDF5Group, x: [Float], rows: Int, columns: Int, obsIndex: [String], obs: [(String, AnnDataColumn)],
    varIndex: [String]
  ) throws {
    try encode(root, "anndata", "0.1.0")
    try encode(try root.write("X", x, shape: [rows, columns]), "array", "0.2.0")
    try writeFrame(root, "obs", index: obsIndex, columns: obs)
    try writeFrame(root, "var", index: varIndex, columns: [])
    for name in ["layers", "obsm", "obsp", "varm", "varp"] {
      try encode(try root.createGroup(name), "dict", "0.1.0")
    }
  }

  /// Writes a data frame `name` under `parent`: the index as `_index` and each column, in order.
  static func writeFrame(_ parent: HDF5Group, _ name: String, index: [String], columns: [(String, AnnDataColumn)]) throws {
    let group = try parent.createGroup(name)
    try encode(group, "dataframe", "0.2.0")
    try group.attributes.set("_index", "_index")
    if columns.isEmpty {
      // An empty string array cannot be told from an empty float one; anndata reads either.
      try group.attributes.set("column-order", [] as [Double])
    } else {
      try group.attributes.set("column-order", columns.map(\.0))
    }
    try encode(try group.writeStrings("_index", index), "string-array", "0.2.0")
    for (column, values) in columns {
      guard values.count == index.count else {
        throw OPSDataError.invalidArgument(
          name: "\(name)/\(column)", message: "\(values.count) values for \(index.count) rows")
      }
      try writeColumn(group, column, values)
    }
  }

  /// Writes one column of a frame.
  static func writeColumn(_ frame: HDF5Group, _ name: String, _ column: AnnDataColumn) throws {
    switch column {
    case .strings(let values):
      try encode(try frame.writeStrings(name, values), "string-array", "0.2.0")
    case .categorical(let codes, let categories):
      let group = try frame.createGroup(name)
      try encode(group, "categorical", "0.2.0")
      try group.attributes.set("ordered", false)
      try encode(try group.writeStrings("categories", categories), "string-array", "0.2.0")
      try encode(try group.write("codes", codes), "array", "0.2.0")
    case .booleans(let values):
      try encode(try frame.writeBooleans(name, values), "array", "0.2.0")
    case .integers(let values):
      try encode(try frame.write(name, values), "array", "0.2.0")
    case .doubles(let values):
      try encode(try frame.write(name, values), "array", "0.2.0")
    }
  }

  /// Writes `uns`: `source` (when given) and every provenance entry, as scalars (`string`,
  /// `numeric-scalar`) or string arrays.
  static func writeUns(_ provenance: OutputProvenance, source: String?, in root: HDF5Group) throws {
    let uns = try root.createGroup("uns")
    try encode(uns, "dict", "0.1.0")
    var provenance = provenance
    if let source { provenance.set("source", .string(source)) }
    for entry in provenance.entries {
      switch entry.value {
      case .string(let text): try encode(try uns.writeString(entry.key, text), "string", "0.2.0")
      case .int(let number): try encode(try uns.write(entry.key, [Int64(number)], shape: []), "numeric-scalar", "0.2.0")
      case .double(let number): try encode(try uns.write(entry.key, [number], shape: []), "numeric-scalar", "0.2.0")
      case .bool(let flag): try encode(try uns.writeBoolean(entry.key, flag), "numeric-scalar", "0.2.0")
      case .strings(let list): try encode(try uns.writeStrings(entry.key, list), "string-array", "0.2.0")
      }
    }
  }
}
