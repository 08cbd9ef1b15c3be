import Foundation
import Testing

@testable import OPSData

@Suite struct CSVTableTests {
  private func parse(_ text: String, delimiter: UInt8 = 44) throws -> CSVTable {
    try CSVTable(data: Data(text.utf8), path: "t.csv", delimiter: delimiter)
  }

  private func message(_ text: String) -> String {
    do {
      _ = try parse(text)
      return "parsed"
    } catch {
      return "\(error)"
    }
  }

  @Test func quotedFieldsLineEndingsAndRowNumbers() throws {
    let table = try parse(
      "\u{FEFF}a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n\n2,\"two\nlines\",\n3,,\"\"\n")
    #expect(table.header == ["a", "b", "c"])
    #expect(table.rows == [["1", "x, y", "say \"hi\""], ["2", "two\nlines", ""], ["3", "", ""]])
    #expect(table.rowNumbers == [2, 4, 6], "rows start on lines 2, 4 (after a blank line) and 6")
    #expect(table.column("c") == 2 && table.column("z") == nil)
    let noFinalNewline = try parse("a,b\n1,2")
    #expect(noFinalNewline.rows == [["1", "2"]])
    let tabs = try parse("a\tb\n1,5\t2\n", delimiter: 9)
    #expect(tabs.rows == [["1,5", "2"]])
  }

  @Test func malformedTablesNameTheRow() {
    #expect(message("a,b\n1,2\n3\n") == "t.csv row 3: 1 fields, but the header has 2 columns")
    #expect(message("a,b\n1,\"open\n2,3\n") == "t.csv row 2: a quoted field is never closed")
    #expect(message("a,b\n1,\"x\"y\n") == "t.csv row 2: unexpected text after a closing quote")
    #expect(message("a,a\n1,2\n") == "t.csv row 1: column 'a' appears twice in the header")
    #expect(message("a,,b\n1,2,3\n") == "t.csv row 1: the header has an empty column name")
    #expect(message("\n\n") == "t.csv: the table is empty")
    // A Latin-1 byte (a table saved by a spreadsheet in another encoding) names its row.
    var latin1 = Data("image,gene\na.tif,TP53\nb.tif,caf".utf8)
    latin1.append(contentsOf: [0xE9, 0x0A])
    #expect(throws: OPSDataError.table(path: "t.csv", row: 3, message: "bytes that are not UTF-8 text; save the table as UTF-8")) {
      try CSVTable(data: latin1, path: "t.csv")
    }
  }
}
