import Foundation
import Testing
import TestSupport

@testable import OPSData

@Suite struct ComplexTableTests {
  @Test func parsesTheBundledTable() throws {
    let table = try ComplexTable(contentsOf: RepositoryFiles.corumComplexes)
    #expect(table.complexes.count == 14)
    #expect(table.genes.count == 105)
    #expect(Set(table.genes).count == 105)
    #expect(table.complexes[0].id == "306")
    #expect(table.complexes[0].name == "Ribosome, cytoplasmic")
    #expect(table.complexes[0].genes.first == "RPL10A")
    #expect(table.complexIndex["PSMA5"] == 3)
    #expect(table.complex(of: "INO80") == 13)
    #expect(table.complex(of: "nontargeting") == nil)
    let sizes = table.complexes.map(\.genes.count)
    #expect(sizes.min() == 7 && sizes.max() == 10)
    for (k, complex) in table.complexes.enumerated() {
      for gene in complex.genes { #expect(table.complexIndex[gene] == k) }
    }
  }

  @Test func trimsFieldsAndAcceptsCRLFAndBlankLines() throws {
    let text =
      "\u{FEFF}complex_id\tcomplex_name\tgene\r\n 7 \t A complex \t GENE1 \r\n\n7\tA complex\tGENE2\r\n9\tOther\tX\textra\n"
    let table = try ComplexTable(tsv: text, source: "t.tsv")
    #expect(table.complexes.count == 2)
    #expect(
      table.complexes[0]
        == ComplexTable.Complex(id: "7", name: "A complex", genes: ["GENE1", "GENE2"]))
    #expect(table.complexes[1].genes == ["X"])
    #expect(table.genes == ["GENE1", "GENE2", "X"])
  }

  @Test func rejectsABadHeader() {
    #expect(throws: ComplexTableError.badHeader(path: "h.tsv", found: "id<TAB>name<TAB>gene")) {
      try ComplexTable(tsv: "id\tname\tgene\n1\ta\tG\n", source: "h.tsv")
    }
  }

  @Test func rejectsShortRowsNamingTheRow() throws {
    let error = #expect(throws: ComplexTableError.self) {
      try ComplexTable(tsv: "complex_id\tcomplex_name\tgene\n1\ta\tG\n2\tb\n", source: "r.tsv")
    }
    #expect(error?.description.contains("r.tsv, row 3") == true)
    #expect(error?.description.contains("found 2") == true)
  }

  @Test func rejectsEmptyFields() {
    #expect(throws: ComplexTableError.emptyField(path: "e.tsv", row: 2, field: "gene")) {
      try ComplexTable(tsv: "complex_id\tcomplex_name\tgene\n1\ta\t  \n", source: "e.tsv")
    }
    #expect(throws: ComplexTableError.emptyField(path: "e.tsv", row: 3, field: "complex_id")) {
      try ComplexTable(tsv: "complex_id\tcomplex_name\tgene\n1\ta\tG\n\ta\tH\n", source: "e.tsv")
    }
  }

  @Test func rejectsGenesInTwoComplexesNamingBothRows() throws {
    let text = "complex_id\tcomplex_name\tgene\n1\ta\tG\n1\ta\tH\n2\tb\tG\n"
    #expect(throws: ComplexTableError.duplicateGene(path: "d.tsv", gene: "G", row: 4, firstRow: 2))
    {
      try ComplexTable(tsv: text, source: "d.tsv")
    }
    let message = ComplexTableError.duplicateGene(path: "d.tsv", gene: "G", row: 4, firstRow: 2)
      .description
    #expect(message.contains("row 4") && message.contains("row 2") && message.contains("G"))
  }

  @Test func rejectsAnIdentifierWithTwoNames() {
    let text = "complex_id\tcomplex_name\tgene\n1\ta\tG\n1\tb\tH\n"
    #expect(
      throws: ComplexTableError.conflictingName(
        path: "n.tsv", row: 3, id: "1", name: "b", firstName: "a", firstRow: 2)
    ) { try ComplexTable(tsv: text, source: "n.tsv") }
  }

  @Test func rejectsEmptyFilesAndHeaderOnlyFiles() {
    #expect(throws: ComplexTableError.empty(path: "x.tsv")) {
      try ComplexTable(tsv: "\n\n", source: "x.tsv")
    }
    #expect(throws: ComplexTableError.empty(path: "x.tsv")) {
      try ComplexTable(tsv: "complex_id\tcomplex_name\tgene\n", source: "x.tsv")
    }
  }

  @Test func reportsAMissingFileByPath() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "no-such-table-\(UInt64.max).tsv")
    let error = #expect(throws: ComplexTableError.self) { try ComplexTable(contentsOf: url) }
    guard case .unreadable(let path, _)? = error else {
      Issue.record("expected .unreadable, got \(String(describing: error))")
      return
    }
    #expect(path == url.path)
  }

  @Test func rejectsNonUTF8Files() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "latin1-\(getpid()).tsv")
    try Data([0x63, 0x6F, 0xFF, 0xFE, 0x0A]).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    #expect(throws: ComplexTableError.unreadable(path: url.path, reason: "not valid UTF-8 text")) {
      try ComplexTable(contentsOf: url)
    }
  }

  @Test func buildsFromComplexesInCode() throws {
    let table = try ComplexTable(complexes: (0..<2).map { k in
      ComplexTable.Complex(id: "\(100 + k)", name: "complex \(k)", genes: (0..<3).map { "C\(k)G\($0)" })
    })
    #expect(table.genes == ["C0G0", "C0G1", "C0G2", "C1G0", "C1G1", "C1G2"])
    #expect(table.complexNames == ["complex 0", "complex 1"])
    #expect(
      throws: ComplexTableError.duplicateGene(path: "<memory>", gene: "A", row: 2, firstRow: 1)
    ) {
      try ComplexTable(complexes: [.init(id: "1", name: "x", genes: ["A", "A"])])
    }
  }
}
