/// The report's SVG figures: 2-D projections coloured by group, and metric curves against k.
enum Figures {
  /// 20 distinguishable colours (Tableau 20 order); groups beyond 20 also change marker shape.
  static let palette = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
  ]
  /// Colour of points outside every group (genes not in the table).
  static let otherColour = "#bbbbbb"

  static func colour(_ group: Int) -> String {
    group < 0 ? otherColour : palette[group % palette.count]
  }

  /// A scatter plot of `points` (row-major `[n, 2]`) coloured by `groups[i]` (an index into
  /// `groupNames`, or −1 for “other”), with a legend and a tooltip per point.
  static func scatter(
    points: [Double], groups: [Int], groupNames: [String], otherName: String = "other",
    title: String, xLabel: String, yLabel: String, pointNames: [String]? = nil
  ) -> String {
    let n = groups.count
    var entries = groupNames.enumerated().map { ($0.element, $0.offset) }
    if groups.contains(-1) { entries.append((otherName, -1)) }
    // Each legend entry in full, wrapped at word boundaries into lines of at most
    // `legendCharacters`; the column is as wide as its longest line.
    let legendCharacters = 48
    let wrapped = entries.map { wrap($0.0, legendCharacters) }
    let lineCount = wrapped.reduce(0) { $0 + $1.count }
    let legendColumns = lineCount > 34 ? 2 : 1
    let longest = wrapped.flatMap { $0 }.map(\.count).max() ?? 0
    let columnWidth = 24 + 6.2 * Double(longest)
    let legendWidth = columnWidth * Double(legendColumns)
    let plot = (left: 60.0, top: 40.0, width: 520.0, height: 520.0)
    let width = plot.left + plot.width + 30 + legendWidth + 10
    // Entries are placed in column order, a column holding about half of the lines.
    let perColumn = (lineCount + legendColumns - 1) / legendColumns
    var placement: [(column: Int, line: Int)] = []
    var column = 0
    var line = 0
    for lines in wrapped {
      if line > 0 && line + lines.count > perColumn && column + 1 < legendColumns {
        column += 1
        line = 0
      }
      placement.append((column, line))
      line += lines.count
    }
    let linesUsed = placement.indices.map { placement[$0].line + wrapped[$0].count }.max() ?? 0
    let height = max(plot.top + plot.height + 50, 60 + 15 * Double(linesUsed))
    var svg = SVGDocument(width: width, height: height)
    let xs = (0..<n).map { points[$0 * 2] }
    let ys = (0..<n).map { points[$0 * 2 + 1] }
    let sx = AxisScale(values: xs)
    let sy = AxisScale(values: ys)
    frame(&svg, plot: plot, sx: sx, sy: sy, title: title, xLabel: xLabel, yLabel: yLabel)
    let markerSize = n > 2_000 ? 1.6 : n > 500 ? 2.5 : 4.5
    // Draw "other" first so the groups stay visible on top.
    let order = (0..<n).sorted { (groups[$0] < 0 ? 0 : 1, $0) < (groups[$1] < 0 ? 0 : 1, $1) }
    for i in order {
      let g = groups[i]
      let px = sx.map(xs[i], from: plot.left, to: plot.left + plot.width)
      let py = sy.map(ys[i], from: plot.top + plot.height, to: plot.top)
      let name = g >= 0 && g < groupNames.count ? groupNames[g] : otherName
      let tip = pointNames.map { "\($0[i]) (\(name))" } ?? name
      svg.marker(
        x: px, y: py, size: markerSize, shape: g < 0 ? 0 : g / palette.count, fill: colour(g),
        opacity: g < 0 ? 0.6 : 0.85, title: n <= 5_000 ? tip : nil)
    }
    for (r, entry) in entries.enumerated() {
      let x = plot.left + plot.width + 30 + Double(placement[r].column) * columnWidth
      let y = plot.top + 8 + Double(placement[r].line) * 15
      svg.marker(
        x: x + 5, y: y - 4, size: 4.5, shape: entry.1 < 0 ? 0 : entry.1 / palette.count,
        fill: colour(entry.1))
      for (k, text) in wrapped[r].enumerated() {
        svg.text(text, x: x + 15, y: y + 15 * Double(k), size: 10)
      }
    }
    return svg.rendered()
  }

  /// One curve of `curves`: a mean with a ±std band per x.
  struct Curve {
    let name: String
    let xs: [Double]
    let means: [Double]
    let stds: [Double]
  }

  /// Side-by-side panels of curves against k with ±std envelopes (GRAPE Fig. 4), one colour per
  /// embedding, and a dashed vertical line at `marker` (the number of complexes).
  static func curvePanels(
    panels: [(title: String, curves: [Curve])], xLabel: String, marker: Double?, title: String
  ) -> String {
    let panelWidth = 300.0
    let panelHeight = 260.0
    let left = 55.0
    let top = 50.0
    let gap = 60.0
    let names = panels.first?.curves.map(\.name) ?? []
    let width = left + Double(panels.count) * (panelWidth + gap) + 10
    let height = top + panelHeight + 60 + 16 * Double(names.count)
    var svg = SVGDocument(width: width, height: height)
    svg.text(title, x: width / 2, y: 22, size: 15, anchor: "middle", bold: true)
    for (p, panel) in panels.enumerated() {
      let x0 = left + Double(p) * (panelWidth + gap)
      let allX = panel.curves.flatMap(\.xs)
      let lowY = panel.curves.flatMap { c in zip(c.means, c.stds).map { $0 - $1 } }
      let highY = panel.curves.flatMap { c in zip(c.means, c.stds).map { $0 + $1 } }
      let sx = AxisScale(values: allX, padding: 0.02)
      let sy = AxisScale(values: lowY + highY, include: [0])
      let box = (left: x0, top: top, width: panelWidth, height: panelHeight)
      frame(
        &svg, plot: box, sx: sx, sy: sy, title: panel.title, xLabel: xLabel, yLabel: panel.title)
      if let marker, marker >= sx.lower, marker <= sx.upper {
        let mx = sx.map(marker, from: box.left, to: box.left + box.width)
        svg.line(
          x1: mx, y1: box.top, x2: mx, y2: box.top + box.height, stroke: "#555", width: 1,
          dash: "4,3")
      }
      for (ci, curve) in panel.curves.enumerated() {
        let colour = palette[ci % palette.count]
        let px = curve.xs.map { sx.map($0, from: box.left, to: box.left + box.width) }
        let upper = zip(curve.means, curve.stds).map {
          sy.map($0 + $1, from: box.top + box.height, to: box.top)
        }
        let lower = zip(curve.means, curve.stds).map {
          sy.map($0 - $1, from: box.top + box.height, to: box.top)
        }
        let band = zip(px, upper).map { ($0, $1) } + zip(px, lower).reversed().map { ($0, $1) }
        svg.polygon(band, fill: colour, opacity: 0.18)
        let line = zip(px, curve.means.map { sy.map($0, from: box.top + box.height, to: box.top) })
          .map { ($0, $1) }
        svg.polyline(line, stroke: colour, width: 1.8)
      }
    }
    for (i, name) in names.enumerated() {
      let y = top + panelHeight + 50 + 16 * Double(i)
      svg.line(
        x1: left, y1: y - 4, x2: left + 22, y2: y - 4, stroke: palette[i % palette.count], width: 3)
      svg.text(name, x: left + 28, y: y, size: 11)
    }
    return svg.rendered()
  }

  /// Axes, ticks, grid and labels of one plot area.
  private static func frame(
    _ svg: inout SVGDocument, plot: (left: Double, top: Double, width: Double, height: Double),
    sx: AxisScale, sy: AxisScale, title: String, xLabel: String, yLabel: String
  ) {
    svg.text(
      title, x: plot.left + plot.width / 2, y: plot.top - 12, size: 13, anchor: "middle", bold: true
    )
    svg.rect(
      x: plot.left, y: plot.top, width: plot.width, height: plot.height, fill: "none",
      stroke: "#444")
    for t in sx.ticks {
      let x = sx.map(t, from: plot.left, to: plot.left + plot.width)
      guard x >= plot.left - 0.5 && x <= plot.left + plot.width + 0.5 else { continue }
      svg.line(x1: x, y1: plot.top, x2: x, y2: plot.top + plot.height, stroke: "#eee")
      svg.line(
        x1: x, y1: plot.top + plot.height, x2: x, y2: plot.top + plot.height + 4, stroke: "#444")
      svg.text(AxisScale.label(t), x: x, y: plot.top + plot.height + 16, size: 10, anchor: "middle")
    }
    for t in sy.ticks {
      let y = sy.map(t, from: plot.top + plot.height, to: plot.top)
      guard y >= plot.top - 0.5 && y <= plot.top + plot.height + 0.5 else { continue }
      svg.line(x1: plot.left, y1: y, x2: plot.left + plot.width, y2: y, stroke: "#eee")
      svg.line(x1: plot.left - 4, y1: y, x2: plot.left, y2: y, stroke: "#444")
      svg.text(AxisScale.label(t), x: plot.left - 7, y: y + 3.5, size: 10, anchor: "end")
    }
    svg.text(
      xLabel, x: plot.left + plot.width / 2, y: plot.top + plot.height + 34, size: 11,
      anchor: "middle")
    svg.text(
      yLabel, x: plot.left - 40, y: plot.top + plot.height / 2, size: 11, anchor: "middle",
      rotate: -90)
  }

  /// `s` broken at spaces into lines of at most `limit` characters (a longer word is cut).
  static func wrap(_ s: String, _ limit: Int) -> [String] {
    var lines: [String] = []
    var current = ""
    for word in s.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
      var piece = word
      while piece.count > limit {
        if !current.isEmpty {
          lines.append(current)
          current = ""
        }
        lines.append(String(piece.prefix(limit)))
        piece = String(piece.dropFirst(limit))
      }
      if current.isEmpty {
        current = piece
      } else if current.count + 1 + piece.count <= limit {
        current += " " + piece
      } else {
        lines.append(current)
        current = piece
      }
    }
    if !current.isEmpty || lines.isEmpty { lines.append(current) }
    return lines
  }
}
