import Foundation

extension CSVTable {
  /// The delimiter of a table judged by its header line: whichever of tab, comma and semicolon
  /// occurs most often outside quotes, or `fallback` when none does or two tie.
  ///
  /// Text tables carry no declaration of their delimiter, so a `.txt` export from a spreadsheet,
  /// a `.csv` that is really tab-separated and a semicolon-separated European CSV all need this.
  public static func sniffDelimiter(_ data: Data, fallback: UInt8) -> UInt8 {
    let candidates: [UInt8] = [9, 44, 59]
    var counts = [Int](repeating: 0, count: candidates.count)
    var quoted = false
    for byte in data.prefix(1 << 16) {
      if byte == 34 {
        quoted.toggle()
      } else if !quoted {
        if byte == 10 || byte == 13 { break }
        if let k = candidates.firstIndex(of: byte) { counts[k] += 1 }
      }
    }
    guard let best = counts.max(), best > 0 else { return fallback }
    let winners = candidates.indices.filter { counts[$0] == best }
    if winners.count > 1 {
      return winners.contains(where: { candidates[$0] == fallback }) ? fallback : candidates[winners[0]]
    }
    return candidates[winners[0]]
  }

  /// The delimiter a table at `path` is expected to use by its extension: tab for `.tsv`, `.tab`
  /// and `.txt`, comma otherwise.
  public static func delimiter(forExtensionOf path: String) -> UInt8 {
    switch URL(fileURLWithPath: path).pathExtension.lowercased() {
    case "tsv", "tab", "txt": return 9
    default: return 44
    }
  }
}
