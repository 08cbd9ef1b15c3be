import Foundation
import OPSData
import GrapeSupport

extension ScreenSimulator {
  /// Renders one crop of a cell with the given traits under the given conditions.
  ///
  /// - Parameters:
  ///   - traits: trait values in control standard deviations, [`PhenotypeParameter.count`].
  ///   - conditions: imaging conditions (`ImagingConditions.baseline()`, a plate's, `.ideal()`).
  ///   - rng: the generator every draw of this crop comes from.
  /// - Returns: the crop, [C, size, size], and whether the cell came out mitotic and its foci count.
  /// - Throws: `SimulationError.invalidTraits` or `.invalidConditions` for values the renderer
  ///   cannot draw (wrong counts, non-finite or out-of-range values).
  public func renderCrop(
    traits: [Float], conditions: ImagingConditions, rng: inout RandomGenerator
  ) throws(SimulationError) -> (pixels: [UInt16], mitotic: Bool, foci: Int) {
    guard traits.count == PhenotypeParameter.count, traits.allSatisfy(\.isFinite) else {
      throw .invalidTraits(
        reason: "expected \(PhenotypeParameter.count) finite values, got \(traits.count)")
    }
    try conditions.validate(channels: channelCount)
    let s = config.size
    let ws = RenderWorkspace(size: s, channels: channelCount)
    var pixels = [UInt16](repeating: 0, count: channelCount * s * s)
    var info = RenderedCellInfo(mitotic: false, fociCount: 0, fieldX: 0, fieldY: 0)
    pixels.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      info = CellRenderer.render(
        traits: traits, conditions: conditions, workspace: ws, rng: &rng, out: base)
    }
    return (pixels, info.mitotic, info.fociCount)
  }

  /// Draws the traits of a cell of gene `g` (natural variation plus, by penetrance, the gene's
  /// phenotype), as the screen does.
  ///
  /// - Throws: `SimulationError.invalidArgument` when `g` is not a gene index.
  public func drawTraits(gene g: Int, rng: inout RandomGenerator) throws(SimulationError) -> [Float]
  {
    guard (0..<geneCount).contains(g) else { throw .invalidArgument(name: "gene index", value: g) }
    return cellTraits(gene: g, rng: &rng).traits
  }

  /// Writes example grids of the screen as PNG files into `outDir` (created if missing).
  ///
  /// Files (tiles are enlarged to about 96 pixels; rows in the order given):
  /// - `complexes.png`: one row per complex, then the control; 8 cells of the complex's genes
  ///   (cycling over the genes), all imaged under the first plate's conditions.
  /// - `batches.png`: one row per batch (at most 8); 8 control cells each (of the batch's cell
  ///   line in an arrayed screen), imaged under the batch's first plate; one contrast stretch for
  ///   the whole grid, so batch differences show.
  /// - `traits.png`: one row per `PhenotypeParameter`; the same cell with that trait at
  ///   −3, −2, −1, 0, +1, +2, +3 standard deviations (baseline imaging, no neighbours).
  /// - `channels.png`: 6 cells (the last two mitotic), one row each: the composite, then DNA,
  ///   DNA damage, microtubules and F-actin in grey.
  /// - an arrayed screen adds `experiments.png` and `cell_lines.png`
  ///   (`renderArrayedGrids(outDir:)`).
  ///
  /// - Returns: the files written.
  /// - Throws: `PNGError.io` when a file cannot be written.
  @discardableResult
  public func renderExampleGrids(outDir: URL) throws -> [URL] {
    try Folder.create(outDir.path)
    let s = config.size
    let c = channelCount
    let scale = max(1, Int((96.0 / Double(s)).rounded()))
    var rng = SeedMixer.generator(config.seed, .preview)
    var written: [URL] = []
    func save(_ image: PNGImage, _ name: String) throws {
      let url = outDir.appendingPathComponent(name)
      try PNGWriter.write(image, to: url)
      written.append(url)
    }
    let columns = 8

    // Complexes, then the control, under the first plate's conditions.
    var crops: [UInt16] = []
    let firstPlate = plateConditions[0]
    var groups: [[Int]] = complexes.complexes.map { complex in
      complex.genes.compactMap { name in truth.geneNames.firstIndex(of: name) }
    }
    groups.append([controlIndex])
    for genes in groups {
      for k in 0..<columns {
        let g = genes[k % genes.count]
        let traits = try drawTraits(gene: g, rng: &rng)
        crops += try renderCrop(traits: traits, conditions: firstPlate, rng: &rng).pixels
      }
    }
    try save(
      CropMontage.compose(
        crops: crops, channels: c, height: s, width: s, columns: columns, scale: scale),
      "complexes.png")

    // Batches: control cells under each batch's first plate.
    crops = []
    let shownBatches = min(8, config.batchCount)
    for b in 0..<shownBatches {
      let conditions = plateConditions[b * config.platesPerBatch]
      let line = arrayed.map { $0.lineOfBatch[b] }
      for _ in 0..<columns {
        let traits = cellTraits(gene: controlIndex, line: line, rng: &rng).traits
        crops += try renderCrop(traits: traits, conditions: conditions, rng: &rng).pixels
      }
    }
    try save(
      CropMontage.compose(
        crops: crops, channels: c, height: s, width: s, columns: columns, scale: scale),
      "batches.png")

    // Traits: one cell, one trait swept from -3 to +3 per row.
    crops = []
    var quiet = ImagingConditions.baseline(channels: c)
    quiet.neighbourDensity = 0
    let levels: [Float] = [-3, -2, -1, 0, 1, 2, 3]
    for p in PhenotypeParameter.allCases {
      var base = PhenotypeParameter.drawNatural(&rng)
      for k in base.indices { base[k] *= 0.3 }
      base[PhenotypeParameter.mitoticFraction.rawValue] = -1
      let cellSeed = rng.next()
      for level in levels {
        var traits = base
        traits[p.rawValue] = level
        var cellRNG = RandomGenerator(seed: cellSeed)
        crops += try renderCrop(traits: traits, conditions: quiet, rng: &cellRNG).pixels
      }
    }
    try save(
      CropMontage.compose(
        crops: crops, channels: c, height: s, width: s, columns: levels.count, scale: scale),
      "traits.png")

    // Channels: composite and each channel in grey, for four interphase and two mitotic cells.
    var cells: [[UInt16]] = []
    var mitoticCells: [[UInt16]] = []
    var attempts = 0
    while (cells.count < 4 || mitoticCells.count < 2) && attempts < 2000 {
      attempts += 1
      let traits = try drawTraits(gene: controlIndex, rng: &rng)
      let crop = try renderCrop(traits: traits, conditions: firstPlate, rng: &rng)
      if crop.mitotic {
        if mitoticCells.count < 2 { mitoticCells.append(crop.pixels) }
      } else if cells.count < 4 {
        cells.append(crop.pixels)
      }
    }
    let chosen = cells + mitoticCells
    let all = chosen.flatMap { $0 }
    let stretch = CropMontage.percentiles(
      crops: all.map { Float($0) }, channels: c, height: s, width: s, low: 0.5, high: 99.8)
    var tiles: [Float] = []
    let area = s * s
    var tileColors: [[ChannelColor]] = []
    for crop in chosen {
      tiles += crop.map { Float($0) }
      tileColors.append(ChannelColor.defaults(channels: c))
      for ch in 0..<c {
        // A crop with only channel `ch` kept, shown in white.
        var single = [Float](repeating: stretch[ch].low, count: c * area)
        for i in 0..<area { single[ch * area + i] = Float(crop[ch * area + i]) }
        tiles += single
        var colors = [ChannelColor](repeating: ChannelColor(red: 0, green: 0, blue: 0), count: c)
        colors[ch] = .white
        tileColors.append(colors)
      }
    }
    // Compose tile by tile (each tile has its own colours), then place them in a grid.
    let perRow = 1 + c
    var pieces: [PNGImage] = []
    for (k, colors) in tileColors.enumerated() {
      let one = Array(tiles[(k * c * area)..<((k + 1) * c * area)])
      pieces.append(
        try CropMontage.compose(
          crops: one, channels: c, height: s, width: s, columns: 1, colors: colors,
          stretch: stretch, scale: scale, gap: 0))
    }
    try save(try Self.grid(pieces, columns: perRow, gap: 2), "channels.png")
    if arrayed != nil { written += try renderArrayedGrids(outDir: outDir) }
    return written
  }

  /// Places equally sized RGB images in a grid with grey gaps.
  static func grid(_ images: [PNGImage], columns: Int, gap: Int) throws(PNGError) -> PNGImage {
    guard let first = images.first else { throw .invalidImage(reason: "empty grid") }
    let w = first.width
    let h = first.height
    let rows = (images.count + columns - 1) / columns
    let outW = columns * w + (columns + 1) * gap
    let outH = rows * h + (rows + 1) * gap
    var rgb = [UInt8](repeating: 48, count: outW * outH * 3)
    for (k, image) in images.enumerated() {
      guard image.width == w, image.height == h, image.colorType == .rgb else {
        throw .invalidImage(reason: "grid tiles must all be \(w)×\(h) RGB")
      }
      let ox = gap + (k % columns) * (w + gap)
      let oy = gap + (k / columns) * (h + gap)
      for y in 0..<h {
        let src = y * w * 3
        let dst = ((oy + y) * outW + ox) * 3
        for i in 0..<(w * 3) { rgb[dst + i] = image.pixels[src + i] }
      }
    }
    return try PNGImage(width: outW, height: outH, colorType: .rgb, pixels: rgb)
  }
}

/// Writes the example grids of the screen that `config` and `complexes` describe (see
/// `ScreenSimulator.renderExampleGrids(outDir:)`); this is what `grape simulate --preview DIR` does.
///
/// - Returns: the files written.
/// - Throws: `SimulationError` for an invalid configuration, `PNGError` when a file cannot be written.
@discardableResult
public func renderExampleGrids(config: SimulationConfig, complexes: ComplexTable, outDir: URL)
  throws -> [URL]
{
  try ScreenSimulator(config: config, complexes: complexes).renderExampleGrids(outDir: outDir)
}
