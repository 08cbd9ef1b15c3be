import Foundation

/// A delimited text table (RFC 4180 CSV, or tab-separated), held in memory as strings.
///
/// Fields may be quoted with `"`; inside quotes, delimiters and line breaks are data and `""` is a
/// literal quote. Lines end in LF or CRLF; a UTF-8 byte-order mark is skipped; blank lines are
/// ignored. A row's number is the line on which it starts (the header is on line 1), which is what
/// an editor or spreadsheet shows for files without line breaks inside quoted fields.
public struct CSVTable: Sendable {
  /// The file the table came from (used in error messages).
  public let path: String
  /// Column names from the header row.
  public let header: [String]
  /// Data rows, each with one field per column.
  public let rows: [[String]]
  /// The line on which each data row starts (the header is on line 1; blank lines count).
  public let rowNumbers: [Int]

  /// Reads and parses the table at `path`; `.tsv` and `.tab` files are tab-separated.
  ///
  /// - Throws: ``OPSDataError/fileNotFound(path:)``, or ``OPSDataError/table(path:row:message:)`` for
  ///   an unterminated quote, bytes that are not UTF-8 text, a row with the wrong number of fields
  ///   or a duplicate column.
  public init(path: String, delimiter: UInt8? = nil) throws {
    guard FileManager.default.fileExists(atPath: path) else {
      throw OPSDataError.fileNotFound(path: path)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw OPSDataError.io(path: path, message: "cannot read the table")
    }
    let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
    try self.init(
      data: data, path: path, delimiter: delimiter ?? ((ext == "tsv" || ext == "tab") ? 9 : 44))
  }

  /// Parses `data` as a table; `path` only names it in errors.
  ///
  /// - Parameter nameEmptyColumns: gives a header cell that is empty the name pandas gives it
  ///   (`Unnamed: k`, k counting columns from 0), as in a table written by `DataFrame.to_csv()` with
  ///   its index; otherwise an empty column name is an error.
  public init(data: Data, path: String, delimiter: UInt8 = 44, nameEmptyColumns: Bool = false) throws {
    self.path = path
    var records: [(row: Int, fields: [String])] = []
    let bytes = [UInt8](data)
    var index = 0
    if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { index = 3 }
    var line = 1
    var fields: [String] = []
    var field: [UInt8] = []
    var recordStart = 1
    var fieldWasQuoted = false
    var recordIsEmpty = true
    var firstInvalidText: Int?

    func endField() {
      if let text = String(validating: field, as: UTF8.self) {
        fields.append(text)
      } else {
        firstInvalidText = firstInvalidText ?? recordStart
        fields.append(String(decoding: field, as: UTF8.self))
      }
      field.removeAll(keepingCapacity: true)
      fieldWasQuoted = false
    }
    func endRecord() {
      endField()
      if !(fields.count == 1 && fields[0].isEmpty && recordIsEmpty) {
        records.append((recordStart, fields))
      }
      fields = []
      recordIsEmpty = true
    }

    let quote: UInt8 = 34
    let cr: UInt8 = 13
    let lf: UInt8 = 10
    while index < bytes.count {
      let byte = bytes[index]
      if byte == quote && field.isEmpty && !fieldWasQuoted {
        // A quoted field: read to the closing quote.
        fieldWasQuoted = true
        recordIsEmpty = false
        let openedAt = line
        index += 1
        var closed = false
        while index < bytes.count {
          let b = bytes[index]
          if b == quote {
            if index + 1 < bytes.count && bytes[index + 1] == quote {
              field.append(quote)
              index += 2
              continue
            }
            index += 1
            closed = true
            break
          }
          if b == lf { line += 1 }
          field.append(b)
          index += 1
        }
        if !closed {
          throw OPSDataError.table(
            path: path, row: openedAt, message: "a quoted field is never closed")
        }
        // After the closing quote only a delimiter or line end may follow.
        if index < bytes.count, bytes[index] != delimiter, bytes[index] != cr, bytes[index] != lf {
          throw OPSDataError.table(
            path: path, row: line, message: "unexpected text after a closing quote")
        }
        continue
      }
      if byte == delimiter {
        recordIsEmpty = false
        endField()
        index += 1
      } else if byte == lf || byte == cr {
        endRecord()
        if byte == cr && index + 1 < bytes.count && bytes[index + 1] == lf { index += 1 }
        index += 1
        line += 1
        recordStart = line
      } else {
        if fieldWasQuoted {
          throw OPSDataError.table(
            path: path, row: line, message: "unexpected text after a closing quote")
        }
        recordIsEmpty = false
        field.append(byte)
        index += 1
      }
    }
    if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
    if let row = firstInvalidText {
      throw OPSDataError.table(path: path, row: row, message: "bytes that are not UTF-8 text; save the table as UTF-8")
    }

    guard let first = records.first else {
      throw OPSDataError.table(path: path, row: nil, message: "the table is empty")
    }
    var header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
    if nameEmptyColumns {
      for k in header.indices where header[k].isEmpty { header[k] = "Unnamed: \(k)" }
    }
    var seen = Set<String>()
    for name in header {
      if name.isEmpty {
        throw OPSDataError.table(
          path: path, row: first.row, message: "the header has an empty column name")
      }
      if !seen.insert(name).inserted {
        throw OPSDataError.table(
          path: path, row: first.row, message: "column '\(name)' appears twice in the header")
      }
    }
    var rows: [[String]] = []
    var numbers: [Int] = []
    rows.reserveCapacity(records.count)
    numbers.reserveCapacity(records.count)
    for record in records.dropFirst() {
      guard record.fields.count == header.count else {
        throw OPSDataError.table(
          path: path, row: record.row,
          message: "\(record.fields.count) fields, but the header has \(header.count) columns")
      }
      rows.append(record.fields)
      numbers.append(record.row)
    }
    self.header = header
    self.rows = rows
    self.rowNumbers = numbers
  }

  /// The index of column `name`, or `nil`.
  public func column(_ name: String) -> Int? {
    header.firstIndex(of: name)
  }
}
