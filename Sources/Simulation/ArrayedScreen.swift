import Foundation
import GrapeSupport

/// Everything an arrayed screen adds to the simulator: cell lines, experiments, plates and wells
/// with their imaging conditions, and the cell layout.
///
/// Experiment `e` belongs to line `ArrayedScreenConfig.lineOfExperiment[e]` and is named after it
/// (`HEPG2-01`, `HEPG2-02`, …, `HUVEC-01`, …). Its batch effect is drawn as a pooled screen's
/// batch is (stream `batch`, index `e`); its plates image under the experiment's conditions with
/// every channel gain multiplied by the line's, moved by the plate's own deviation (stream
/// `plate`); each well moves its plate's gain and neighbour density a little more (stream `well`,
/// `ImagingConditions.wellPerturbed`).
struct ArrayedScreen: Sendable {
  let lines: CellLines
  let lineOfBatch: [Int]
  let wells: ArrayedWells
  let batchNames: [String]
  let batchConditions: [ImagingConditions]
  let plateConditions: [ImagingConditions]
  let plateNames: [String]
  let plateBatch: [Int32]
  let wellConditions: [ImagingConditions]
  let layout: ScreenLayout

  /// Prepares the arrayed parts of a screen.
  ///
  /// - Throws: `SimulationError.invalidValue` naming `--cells-per-well` when the screen would
  ///   exceed 2³¹ − 1 cells.
  init(
    config: SimulationConfig, arrayed a: ArrayedScreenConfig, complexOfGene: [Int],
    complexCount: Int, controlIndex: Int, channels: Int
  ) throws(SimulationError) {
    let geneCount = complexOfGene.count
    let wells = ArrayedWells(
      geneCount: geneCount, controlIndex: controlIndex, config: config, arrayed: a)
    let total = wells.count * a.cellsPerWell
    guard total <= Int(Int32.max) else {
      throw .invalidValue(
        flag: "--cells-per-well", value: "\(a.cellsPerWell)",
        requirement: "the screen would hold \(total) cells, more than 2147483647")
    }
    let lines = CellLines(
      count: a.cellLines, complexOfGene: complexOfGene, complexCount: complexCount,
      channels: channels, effect: a.cellLineEffect, seed: config.seed)
    let lineOfBatch = a.lineOfExperiment
    var numberInLine = [Int](repeating: 0, count: a.cellLines)
    var batchNames: [String] = []
    for l in lineOfBatch {
      numberInLine[l] += 1
      batchNames.append("\(lines.names[l])-\(String(format: "%02d", numberInLine[l]))")
    }
    let base = ImagingConditions.baseline(channels: channels)
    let scale = Float(config.batchEffect)
    var batches: [ImagingConditions] = []
    var plates: [ImagingConditions] = []
    var plateNames: [String] = []
    var plateBatch: [Int32] = []
    for e in 0..<a.experiments {
      var rng = SeedMixer.generator(config.seed, .batch, e)
      let own = base.perturbed(&rng, scale: scale)
      batches.append(own)
      var inLine = own
      inLine.gain = zip(own.gain, lines.gain(ofLine: lineOfBatch[e])).map { $0 * $1 }
      for p in 0..<config.platesPerBatch {
        let index = e * config.platesPerBatch + p
        var plateRNG = SeedMixer.generator(config.seed, .plate, index)
        plates.append(inLine.perturbed(&plateRNG, scale: scale * ImagingConditions.plateFraction))
        plateNames.append("\(batchNames[e])-P\(p + 1)")
        plateBatch.append(Int32(e))
      }
    }
    let wellConditions = (0..<wells.count).map { w in
      var rng = SeedMixer.generator(config.seed, .well, w)
      return plates[Int(wells.plate[w])].wellPerturbed(&rng, scale: scale)
    }
    self.lines = lines
    self.lineOfBatch = lineOfBatch
    self.wells = wells
    self.batchNames = batchNames
    self.batchConditions = batches
    self.plateConditions = plates
    self.plateNames = plateNames
    self.plateBatch = plateBatch
    self.wellConditions = wellConditions
    self.layout = ScreenLayout(
      wells: wells, geneCount: geneCount, experiments: a.experiments, cellsPerWell: a.cellsPerWell)
  }

  /// The truth datasets of the cell lines and wells.
  var truth: ArrayedTruth {
    ArrayedTruth(
      cellLineNames: lines.names, batchCellLine: lineOfBatch.map { Int32($0) },
      cellLineTraits: lines.traitShift, cellLineGain: lines.channelGain,
      cellLinePhenotypeFactor: lines.phenotypeFactor, wellGene: wells.gene,
      wellBatch: wells.experiment, wellPlate: wells.plate, wellPosition: wells.position,
      wellEffects: wellConditions.flatMap(\.vector))
  }

  /// The imaging conditions of a cell in plate `plate` at position `position`.
  func conditions(plate: Int, position: Int) -> ImagingConditions {
    guard let w = wells.index(plate: plate, position: position) else {
      return plateConditions[plate]
    }
    return wellConditions[w]
  }
}
