extension ComplexTable {
  /// The complexes a simulated store records under `/truth` (`complex` [G], -1 for none;
  /// `complex_names` and `complex_ids` [K]), or `nil` for a store without them (real screens).
  ///
  /// - Throws: when the truth datasets disagree with each other or with `/genes`.
  public static func fromTruth(of store: CellStore) throws -> ComplexTable? {
    guard store.file.contains("/truth/complex"), store.file.contains("/truth/complex_names") else { return nil }
    let complexOfGene = try store.array("/truth/complex", as: Int32.self).values
    let names = try store.strings("/truth/complex_names")
    let ids = store.file.contains("/truth/complex_ids") ? try store.strings("/truth/complex_ids") : names
    func invalid(_ message: String) -> OPSDataError {
      OPSDataError.invalidArgument(name: "\(store.path) /truth", message: message)
    }
    guard complexOfGene.count == store.genes.count else {
      throw invalid("/truth/complex has \(complexOfGene.count) entries for \(store.genes.count) genes")
    }
    guard ids.count == names.count else {
      throw invalid("/truth/complex_ids has \(ids.count) entries for \(names.count) complex names")
    }
    var members = [[String]](repeating: [], count: names.count)
    for (gene, complex) in zip(store.genes, complexOfGene) where complex >= 0 {
      guard Int(complex) < names.count else { throw invalid("gene '\(gene)' has complex \(complex) of \(names.count)") }
      members[Int(complex)].append(gene)
    }
    let complexes = names.indices.filter { !members[$0].isEmpty }.map {
      Complex(id: ids[$0], name: names[$0], genes: members[$0])
    }
    do {
      return try ComplexTable(complexes: complexes, source: "\(store.path) /truth")
    } catch {
      throw invalid(error.description)
    }
  }
}
