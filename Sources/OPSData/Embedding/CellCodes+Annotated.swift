extension CellCodes {
  /// Writes the codes with the cells' fields and what the file records about itself (temporary
  /// name, then renamed): an AnnData file for a `.h5ad` path, a pycytominer-style table for a
  /// `.csv` path (``writeProfileCSV(_:fields:columnNames:)``), else HDF5.
  ///
  /// HDF5: the codes dataset (``name``, `/styles` by default), `/obs/gene`, `/obs/batch`,
  /// `/genes`, `/batches`, each field at `/obs/<name>` in its own type, the column names at
  /// `/feature_names` when given, and the provenance as root attributes. AnnData: see
  /// ``writeH5AD(_:fields:provenance:controlGene:columnNames:source:)``.
  ///
  /// - Parameters:
  ///   - fields: per-cell fields copied from the store (e.g. `plate`, `well`), one value per cell.
  ///   - provenance: the run, checkpoint and toolkit behind the codes.
  ///   - controlGene: the control's name, for AnnData's `is_control` column.
  ///   - columnNames: a name per column (e.g. engineered feature names); `dim_0`, … without.
  ///   - source: AnnData's `uns/source` (`style-codes` without).
  /// - Throws: ``OPSDataError/invalidArgument(name:message:)`` when a field or the names have the
  ///   wrong length, or HDF5 errors.
  public func write(
    to path: String, fields: [CellField], provenance: OutputProvenance, controlGene: String? = nil,
    columnNames: [String]? = nil, source: String? = nil
  ) throws {
    for field in fields where field.count != count {
      throw OPSDataError.invalidArgument(
        name: "/obs/\(field.name)", message: "\(field.count) values for \(count) cells")
    }
    if let columnNames, columnNames.count != dimension {
      throw OPSDataError.invalidArgument(
        name: "column names", message: "\(columnNames.count) names for \(dimension) columns")
    }
    if path.lowercased().hasSuffix(".h5ad") {
      try writeH5AD(
        path, fields: fields, provenance: provenance, controlGene: controlGene, columnNames: columnNames,
        source: source ?? "style-codes")
      return
    }
    if path.lowercased().hasSuffix(".csv") {
      try writeProfileCSV(path, fields: fields, columnNames: columnNames ?? (0..<dimension).map { "dim_\($0)" })
      return
    }
    let file = try HDF5File.create(path)
    let root = try file.root
    try root.write(name, values, shape: [count, dimension])
    try root.write("obs/gene", geneOfCell)
    try root.write("obs/batch", batchOfCell)
    for field in fields {
      switch field.values {
      case .strings(let v): try root.writeStrings("obs/\(field.name)", v)
      case .integers(let v): try root.write("obs/\(field.name)", v)
      }
    }
    try root.writeStrings("genes", genes)
    try root.writeStrings("batches", batches)
    if let columnNames { try root.writeStrings(Self.columnNamesDataset, columnNames) }
    try provenance.write(to: root)
    try file.commit()
  }
}
