import Foundation

/// A minimal SVG writer: shapes and text in user units, rendered as a standalone document.
struct SVGDocument {
  /// Width in pixels.
  let width: Double
  /// Height in pixels.
  let height: Double
  private var body: [String] = []

  init(width: Double, height: Double) {
    self.width = width
    self.height = height
  }

  /// A number with at most two decimals (compact output).
  static func number(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let r = (v * 100).rounded() / 100
    if r == r.rounded() { return String(Int(r)) }
    return String(format: "%.2f", r)
  }

  /// Escapes text for XML content and attributes.
  static func escape(_ s: String) -> String {
    var out = ""
    for c in s {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      default: out.append(c)
      }
    }
    return out
  }

  private static func n(_ v: Double) -> String { number(v) }

  mutating func rect(
    x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil,
    opacity: Double = 1
  ) {
    var s =
      "<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(width))\" height=\"\(Self.n(height))\" fill=\"\(fill)\""
    if let stroke { s += " stroke=\"\(stroke)\"" }
    if opacity < 1 { s += " fill-opacity=\"\(Self.n(opacity))\"" }
    body.append(s + "/>")
  }

  mutating func line(
    x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1,
    dash: String? = nil
  ) {
    var s =
      "<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\""
    if let dash { s += " stroke-dasharray=\"\(dash)\"" }
    body.append(s + "/>")
  }

  mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.5) {
    guard !points.isEmpty else { return }
    let p = points.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " ")
    body.append(
      "<polyline points=\"\(p)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\"/>"
    )
  }

  mutating func polygon(_ points: [(Double, Double)], fill: String, opacity: Double) {
    guard !points.isEmpty else { return }
    let p = points.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " ")
    body.append(
      "<polygon points=\"\(p)\" fill=\"\(fill)\" fill-opacity=\"\(Self.n(opacity))\" stroke=\"none\"/>"
    )
  }

  /// A marker: shape 0 circle, 1 square, 2 triangle, 3 diamond; `title` becomes a tooltip.
  mutating func marker(
    x: Double, y: Double, size: Double, shape: Int, fill: String, opacity: Double = 0.85,
    title: String? = nil
  ) {
    let tip = title.map { "<title>\(Self.escape($0))</title>" } ?? ""
    let style =
      "fill=\"\(fill)\" fill-opacity=\"\(Self.n(opacity))\" stroke=\"#333\" stroke-width=\"0.4\""
    let r = size
    let element: String
    switch shape % 4 {
    case 1:
      element =
        "<rect x=\"\(Self.n(x - r))\" y=\"\(Self.n(y - r))\" width=\"\(Self.n(2 * r))\" height=\"\(Self.n(2 * r))\" \(style)"
    case 2:
      let p = [(x, y - 1.2 * r), (x - 1.1 * r, y + 0.9 * r), (x + 1.1 * r, y + 0.9 * r)]
      element =
        "<polygon points=\"\(p.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " "))\" \(style)"
    case 3:
      let p = [(x, y - 1.3 * r), (x + 1.3 * r, y), (x, y + 1.3 * r), (x - 1.3 * r, y)]
      element =
        "<polygon points=\"\(p.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " "))\" \(style)"
    default:
      element = "<circle cx=\"\(Self.n(x))\" cy=\"\(Self.n(y))\" r=\"\(Self.n(r))\" \(style)"
    }
    body.append(tip.isEmpty ? element + "/>" : element + ">" + tip + closing(for: shape % 4))
  }

  private func closing(for shape: Int) -> String {
    switch shape {
    case 1: return "</rect>"
    case 2, 3: return "</polygon>"
    default: return "</circle>"
    }
  }

  mutating func text(
    _ string: String, x: Double, y: Double, size: Double = 11, anchor: String = "start",
    bold: Bool = false, rotate: Double? = nil, fill: String = "#222"
  ) {
    var s =
      "<text x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" font-size=\"\(Self.n(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\""
    if bold { s += " font-weight=\"bold\"" }
    if let rotate { s += " transform=\"rotate(\(Self.n(rotate)) \(Self.n(x)) \(Self.n(y)))\"" }
    body.append(s + ">" + Self.escape(string) + "</text>")
  }

  /// The complete document.
  func rendered() -> String {
    var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    out +=
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.n(width))\" height=\"\(Self.n(height))\" viewBox=\"0 0 \(Self.n(width)) \(Self.n(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
    out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    out += body.joined(separator: "\n")
    out += "\n</svg>\n"
    return out
  }
}

/// Axis ranges with round tick values.
struct AxisScale {
  let lower: Double
  let upper: Double
  let ticks: [Double]

  /// A range covering `values` (padded by `padding` of the span) with about `count` round ticks.
  init(values: [Double], count: Int = 5, padding: Double = 0.05, include: [Double] = []) {
    let finite = (values + include).filter(\.isFinite)
    var lo = finite.min() ?? 0
    var hi = finite.max() ?? 1
    if hi - lo < 1e-12 {
      lo -= 0.5
      hi += 0.5
    }
    let pad = (hi - lo) * padding
    lo -= pad
    hi += pad
    let raw = (hi - lo) / Double(max(count, 1))
    let magnitude = pow(10, floor(log10(raw)))
    let residual = raw / magnitude
    let step = (residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10) * magnitude
    let first = ceil(lo / step) * step
    var ticks: [Double] = []
    var t = first
    while t <= hi + step * 1e-9 && ticks.count < 50 {
      ticks.append(abs(t) < step * 1e-9 ? 0 : t)
      t += step
    }
    self.lower = lo
    self.upper = hi
    self.ticks = ticks
  }

  /// Fixed range with ticks every `step`.
  init(lower: Double, upper: Double, step: Double) {
    self.lower = lower
    self.upper = upper
    var ticks: [Double] = []
    var t = lower
    while t <= upper + step * 1e-9 {
      ticks.append(t)
      t += step
    }
    self.ticks = ticks
  }

  /// Maps a value into the pixel interval `[from, to]`.
  func map(_ v: Double, from a: Double, to b: Double) -> Double {
    a + (v - lower) / (upper - lower) * (b - a)
  }

  /// A tick label with no more decimals than needed.
  static func label(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
    var s = String(format: "%.3f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
  }
}
