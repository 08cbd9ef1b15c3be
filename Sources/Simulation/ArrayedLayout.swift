import Foundation
import GrapeSupport

/// The wells of an arrayed screen: which gene each well holds and where it sits.
///
/// Each experiment has `wellsPerGene` wells of every targeting gene and `controls × wellsPerGene`
/// control wells, placed in random order (stream `wells`, one per experiment) over its
/// `platesPerBatch` plates of `wellsPerPlate = ⌈wells of the experiment / plates⌉` wells each, as
/// arrayed screens randomise well positions against plate effects. Wells are numbered over the
/// whole screen, experiment by experiment, plate by plate and position by position; every well
/// holds `cellsPerWell` cells of its one gene.
struct ArrayedWells: Sendable, Equatable {
  /// Gene index of each well, [W].
  let gene: [Int32]
  /// Experiment (batch) of each well, [W].
  let experiment: [Int32]
  /// Plate of each well over the whole screen (experiment × platesPerBatch + plate), [W].
  let plate: [Int32]
  /// Position of each well within its plate, [W].
  let position: [Int32]
  /// Wells per plate (positions 0..<wellsPerPlate; the last plate of an experiment may have
  /// empty positions).
  let wellsPerPlate: Int
  /// Plates of each experiment.
  let platesPerExperiment: Int
  /// Wells of each experiment.
  let wellsPerExperiment: Int

  /// Number of wells.
  var count: Int { gene.count }

  /// The global well index of position `position` of plate `plate` (nil for an empty position).
  func index(plate: Int, position: Int) -> Int? {
    let e = plate / max(1, platesPerExperiment)
    let p = plate % max(1, platesPerExperiment)
    let slot = p * wellsPerPlate + position
    guard slot < wellsPerExperiment else { return nil }
    return e * wellsPerExperiment + slot
  }

  /// Lays out the wells.
  ///
  /// - Parameters:
  ///   - geneCount: genes G, the control included.
  ///   - controlIndex: the control's gene index.
  ///   - config: the settings (seed, controls, plates per experiment).
  ///   - arrayed: the arrayed layout (experiments, wells per gene).
  init(geneCount: Int, controlIndex: Int, config: SimulationConfig, arrayed a: ArrayedScreenConfig) {
    var genesOfExperiment: [Int32] = []
    for g in 0..<geneCount {
      let n = g == controlIndex ? config.controls * a.wellsPerGene : a.wellsPerGene
      genesOfExperiment += [Int32](repeating: Int32(g), count: n)
    }
    let perExperiment = genesOfExperiment.count
    let plates = config.platesPerBatch
    let perPlate = (perExperiment + plates - 1) / plates
    var gene: [Int32] = []
    var experiment: [Int32] = []
    var plate: [Int32] = []
    var position: [Int32] = []
    for e in 0..<a.experiments {
      var rng = SeedMixer.generator(config.seed, .wells, e)
      var order = genesOfExperiment
      rng.shuffle(&order)
      for (slot, g) in order.enumerated() {
        gene.append(g)
        experiment.append(Int32(e))
        plate.append(Int32(e * plates + slot / perPlate))
        position.append(Int32(slot % perPlate))
      }
    }
    self.gene = gene
    self.experiment = experiment
    self.plate = plate
    self.position = position
    self.wellsPerPlate = perPlate
    self.platesPerExperiment = plates
    self.wellsPerExperiment = perExperiment
  }
}

extension ScreenLayout {
  /// Lays out the cells of an arrayed screen: `cellsPerWell` cells in each well, stored well by
  /// well in the wells' order (experiment, plate, position).
  init(wells: ArrayedWells, geneCount: Int, experiments: Int, cellsPerWell: Int) {
    let total = wells.count * cellsPerWell
    var gene: [Int32] = []
    var batch: [Int32] = []
    var plate: [Int32] = []
    var well: [Int32] = []
    gene.reserveCapacity(total)
    batch.reserveCapacity(total)
    plate.reserveCapacity(total)
    well.reserveCapacity(total)
    var counts = [Int32](repeating: 0, count: geneCount * experiments)
    for w in 0..<wells.count {
      gene += [Int32](repeating: wells.gene[w], count: cellsPerWell)
      batch += [Int32](repeating: wells.experiment[w], count: cellsPerWell)
      plate += [Int32](repeating: wells.plate[w], count: cellsPerWell)
      well += [Int32](repeating: wells.position[w], count: cellsPerWell)
      counts[Int(wells.gene[w]) * experiments + Int(wells.experiment[w])] += Int32(cellsPerWell)
    }
    self.init(gene: gene, batch: batch, plate: plate, well: well, geneBatchCounts: counts)
  }
}
