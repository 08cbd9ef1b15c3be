import GrapeSupport
import Foundation
import TensorCore
import NeuralNet

/// A small SVG line chart of the losses in `log.tsv`, one panel per loss: the x axis is the
/// log's first column (the training step), the y axis the loss named in the panel's title.
/// Values that are not finite (`nan` on the rows a validation column such as `val_map` was not
/// measured) are left out of their panel; a column without any finite value gets no panel, and a
/// column measured on a few rows only gets a dot at each point.
public enum LossCurve {
  /// Reads `log.tsv` and writes `loss_curves.svg` beside it (atomically).
  public static func write(run: RunFolder) throws {
    guard let text = try? String(contentsOfFile: run.logPath, encoding: .utf8) else { return }
    let rows = text.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
    guard let header = rows.first, rows.count >= 2 else { return }
    let data = rows.dropFirst().compactMap { r -> [Double]? in
      let v = r.compactMap(Double.init)
      return v.count == header.count ? v : nil
    }
    let series = Array(header.indices.dropFirst(2)).filter { col in data.contains { $0[col].isFinite } }
    let cols = 4
    let (w, h) = (270.0, 180.0)
    let rowsCount = (series.count + cols - 1) / cols
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w) * cols)\" height=\"\(Int(h) * rowsCount)\" font-family=\"sans-serif\" font-size=\"11\">\n"
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    for (k, col) in series.enumerated() {
      let ox = Double(k % cols) * w, oy = Double(k / cols) * h
      let measured = data.filter { $0[col].isFinite }
      let xs = measured.map { $0[0] }, ys = measured.map { $0[col] }
      guard let x0 = xs.first, let x1 = xs.last, let lo = ys.min(), let hi = ys.max() else { continue }
      let (px, py, pw, ph) = (ox + 50, oy + 20, w - 65, h - 62)
      func X(_ x: Double) -> Double { px + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * pw }
      func Y(_ y: Double) -> Double { py + ph - (hi > lo ? (y - lo) / (hi - lo) : 0.5) * ph }
      svg += "<text x=\"\(px)\" y=\"\(oy + 14)\">\(header[col])</text>\n"
      svg += "<rect x=\"\(px)\" y=\"\(py)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#bbb\"/>\n"
      svg += "<text x=\"\(ox + 2)\" y=\"\(py + 8)\">\(String(format: "%.3g", hi))</text><text x=\"\(ox + 2)\" y=\"\(py + ph)\">\(String(format: "%.3g", lo))</text>\n"
      svg += "<text x=\"\(px)\" y=\"\(py + ph + 14)\">\(Int(x0))</text><text x=\"\(px + pw - 30)\" y=\"\(py + ph + 14)\">\(Int(x1))</text>\n"
      svg += "<text x=\"\(px + pw / 2)\" y=\"\(py + ph + 30)\" text-anchor=\"middle\">\(header[0])</text>\n"
      svg += "<text transform=\"translate(\(ox + 12),\(py + ph / 2)) rotate(-90)\" text-anchor=\"middle\">\(header[col])</text>\n"
      let points = zip(xs, ys).map { String(format: "%.1f,%.1f", X($0), Y($1)) }.joined(separator: " ")
      svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.2\" points=\"\(points)\"/>\n"
      if measured.count < data.count, measured.count <= 100 {
        for (x, y) in zip(xs, ys) { svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#1f77b4\"/>\n", X(x), Y(y)) }
      }
    }
    svg += "</svg>\n"
    try AtomicFile.write(svg, to: "\(run.path)/loss_curves.svg")
  }
}
