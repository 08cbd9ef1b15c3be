extension CellCodes {
  /// Writes the codes with the cells' fields and what the file records about itself (temporary
  /// name, then renamed): an AnnData file for a `.h5ad` path, else HDF5.
  ///
  /// HDF5: the codes dataset (``name``, `/styles` by default), `/obs/gene`, `/obs/batch`,
  /// `/genes`, `/batches`, each field at `/obs/<name>` in its own type, and the provenance as
  /// root attributes. AnnData: see ``writeH5AD(_:fields:provenance:controlGene:)``.
  ///
  /// - Parameters:
  ///   - fields: per-cell fields copied from the store (e.g. `plate`, `well`), one value per cell.
  ///   - provenance: the run, checkpoint and toolkit behind the codes.
  ///   - controlGene: the control's name, for AnnData's `is_control` column.
  /// - Throws: ``OPSDataError/invalidArgument(name:message:)`` when a field has the wrong length,
  ///   or HDF5 errors.
  public func write(
    to path: String, fields: [CellField], provenance: OutputProvenance, controlGene: String? = nil
  ) throws {
    for field in fields where field.count != count {
      throw OPSDataError.invalidArgument(
        name: "/obs/\(field.name)", message: "\(field.count) values for \(count) cells")
    }
    if path.lowercased().hasSuffix(".h5ad") {
      try writeH5AD(path, fields: fields, provenance: provenance, controlGene: controlGene)
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
    try provenance.write(to: root)
    try file.commit()
  }
}
