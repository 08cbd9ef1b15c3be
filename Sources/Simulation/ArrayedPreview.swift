import Foundation
import OPSData
import GrapeSupport

extension ScreenSimulator {
  /// Writes the example grids of an arrayed screen as PNG files into `outDir`; writes nothing for
  /// a pooled screen.
  ///
  /// Files (tiles enlarged to about 96 pixels; one contrast stretch per grid, so differences
  /// between rows show):
  /// - `experiments.png`: one row per experiment (at most 12); 8 control cells of the
  ///   experiment's cell line, imaged under the conditions of one of its wells.
  /// - `cell_lines.png`: two rows per cell line, under the baseline imaging conditions times the
  ///   line's channel gains (no experiment effect): 8 control cells, then 8 cells of the gene
  ///   whose phenotype differs most between the lines (effect size × the spread of its line
  ///   factors), showing it weaker or absent in some line.
  ///
  /// - Returns: the files written.
  /// - Throws: `PNGError.io` when a file cannot be written.
  @discardableResult
  public func renderArrayedGrids(outDir: URL) throws -> [URL] {
    guard let arrayed else { return [] }
    try Folder.create(outDir.path)
    let s = config.size
    let c = channelCount
    let scale = max(1, Int((96.0 / Double(s)).rounded()))
    let columns = 8
    var rng = SeedMixer.generator(config.seed, .preview, 1)
    var written: [URL] = []
    func save(_ crops: [UInt16], _ name: String) throws {
      let url = outDir.appendingPathComponent(name)
      try PNGWriter.write(
        CropMontage.compose(
          crops: crops, channels: c, height: s, width: s, columns: columns, scale: scale),
        to: url)
      written.append(url)
    }
    func cell(gene g: Int, line: Int, conditions: ImagingConditions) throws -> [UInt16] {
      let traits = cellTraits(gene: g, line: line, rng: &rng).traits
      return try renderCrop(traits: traits, conditions: conditions, rng: &rng).pixels
    }

    var crops: [UInt16] = []
    let experiments = min(12, arrayed.batchNames.count)
    for e in 0..<experiments {
      let well = arrayed.wells.experiment.firstIndex(of: Int32(e)) ?? 0
      for _ in 0..<columns {
        crops += try cell(
          gene: controlIndex, line: arrayed.lineOfBatch[e],
          conditions: arrayed.wellConditions[well])
      }
    }
    try save(crops, "experiments.png")

    crops = []
    // The gene whose phenotype differs most between the lines (its strongest minus its weakest
    // showing), so the grid shows a phenotype that is weaker or absent in some line.
    let sizes = phenotypes.effectSizes
    let lines = arrayed.lines
    func contrast(_ g: Int) -> Float {
      let factors = (0..<lines.count).map { lines.factor(line: $0, gene: g) }
      let spread = (factors.max() ?? 0) - (lines.count > 1 ? (factors.min() ?? 0) : 0)
      return sizes[g] * spread
    }
    let shown =
      sizes.indices.filter { $0 != controlIndex }.max { contrast($0) < contrast($1) }
      ?? controlIndex
    for l in 0..<arrayed.lines.count {
      var conditions = ImagingConditions.baseline(channels: c)
      conditions.gain = Array(arrayed.lines.gain(ofLine: l))
      for g in [controlIndex, shown] {
        for _ in 0..<columns { crops += try cell(gene: g, line: l, conditions: conditions) }
      }
    }
    try save(crops, "cell_lines.png")
    return written
  }
}
