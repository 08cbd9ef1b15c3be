import Dispatch
import Foundation
import OPSData
import GrapeSupport

/// Simulates an optical pooled screen: four-channel crops of cells whose morphology depends on the
/// gene knocked out, imaged in batches that differ in staining, optics, camera and cell density.
///
/// The screen's genes are the complexes table's genes followed by one control label; every complex
/// has a phenotype that its genes share with gene-level noise (`GenePhenotypes`); batches and
/// plates have their own imaging conditions (`ImagingConditions`); cells are laid out over batches,
/// plates and wells with uneven gene representation (`ScreenLayout`). Construction computes all of
/// this (small); `run(into:)` renders the cells chunk by chunk into a sink, in parallel over cells.
///
/// With `SimulationConfig.arrayed` set the screen is arrayed instead (`ArrayedScreen`): experiments
/// of cell lines (`CellLines`), each gene in wells of its own (`ArrayedWells`), every cell rendered
/// under its well's conditions with its line's baseline traits and phenotype factor.
///
/// Reproducibility: cell `i` is rendered from its own generator, derived from the seed and `i`
/// alone, so the bytes of a screen depend only on the configuration and the table, never on the
/// chunk size or the number of threads.
///
/// ```swift
/// let sim = try ScreenSimulator(config: SimulationConfig(seed: 7), complexes: table)
/// var sink = CollectingSink()
/// try sim.run(into: &sink, chunkSize: 256)
/// ```
public struct ScreenSimulator: Sendable {
  /// Channel names, in pixel order.
  public static let channelNames = ["DNA", "DNA-damage", "microtubules", "F-actin"]

  /// The configuration.
  public let config: SimulationConfig
  /// The complexes table the genes come from.
  public let complexes: ComplexTable
  /// The ground truth of the screen.
  public let truth: SimulationTruth
  /// The phenotype of each gene.
  public let phenotypes: GenePhenotypes
  /// Imaging conditions of each batch.
  public let batchConditions: [ImagingConditions]
  /// Imaging conditions of each plate (what its cells are rendered under).
  public let plateConditions: [ImagingConditions]
  /// The cell lines, experiments and wells of an arrayed screen; nil for a pooled one.
  let arrayed: ArrayedScreen?
  let layout: ScreenLayout

  /// The cell lines of an arrayed screen; nil for a pooled one.
  public var cellLines: CellLines? { arrayed?.lines }

  /// Number of cells in the screen.
  public var cellCount: Int { layout.count }
  /// Number of genes, the control included.
  public var geneCount: Int { truth.geneCount }
  /// Number of channels of each crop.
  public var channelCount: Int { Self.channelNames.count }
  /// Index of the control gene.
  public var controlIndex: Int { truth.controlIndex }

  /// Prepares a screen.
  ///
  /// - Throws: `SimulationError` when a setting is out of range (naming its flag), the table is
  ///   empty, the control label is also a table gene, or the screen would exceed 2³¹ − 1 cells.
  public init(config: SimulationConfig, complexes: ComplexTable) throws(SimulationError) {
    try config.validate()
    guard !complexes.genes.isEmpty else { throw .noGenes(source: complexes.source) }
    if complexes.complexIndex[config.controlName] != nil {
      throw .controlNameClash(name: config.controlName, source: complexes.source)
    }
    let genes = complexes.genes + [config.controlName]
    let control = genes.count - 1
    let cellsOfGene = genes.indices.map {
      $0 == control ? config.controls * config.cellsPerGene : config.cellsPerGene
    }
    let total = cellsOfGene.reduce(0) { $0 + $1 }
    guard config.isArrayed || total <= Int(Int32.max) else {
      throw .invalidValue(
        flag: "--cells-per-gene", value: "\(config.cellsPerGene)",
        requirement: "the screen would hold \(total) cells, more than 2147483647")
    }
    let complexOfGene = genes.map { complexes.complexIndex[$0] ?? -1 }
    let phenotypes = GenePhenotypes(
      complexOfGene: complexOfGene, complexCount: complexes.complexes.count,
      controlIndex: control, strength: config.phenotypeStrength, seed: config.seed)

    let arrayedScreen: ArrayedScreen?
    let batches: [ImagingConditions]
    let plates: [ImagingConditions]
    let plateNames: [String]
    let plateBatch: [Int32]
    let batchNames: [String]
    let layout: ScreenLayout
    if let a = config.arrayed {
      let screen = try ArrayedScreen(
        config: config, arrayed: a, complexOfGene: complexOfGene,
        complexCount: complexes.complexes.count, controlIndex: control,
        channels: Self.channelNames.count)
      arrayedScreen = screen
      batches = screen.batchConditions
      plates = screen.plateConditions
      plateNames = screen.plateNames
      plateBatch = screen.plateBatch
      batchNames = screen.batchNames
      layout = screen.layout
    } else {
      let pooled = Self.pooledPlates(config: config)
      arrayedScreen = nil
      batches = pooled.batches
      plates = pooled.plates
      plateNames = pooled.plateNames
      plateBatch = pooled.plateBatch
      batchNames = (0..<config.batches).map { "B\($0 + 1)" }
      layout = ScreenLayout(cellsOfGene: cellsOfGene, config: config)
    }

    self.config = config
    self.complexes = complexes
    self.phenotypes = phenotypes
    self.batchConditions = batches
    self.plateConditions = plates
    self.layout = layout
    self.arrayed = arrayedScreen
    var truth = SimulationTruth(
      geneNames: genes, controlName: config.controlName, controlIndex: control,
      channelNames: Self.channelNames, complexOfGene: complexOfGene.map { Int32($0) },
      complexNames: complexes.complexes.map(\.name), complexIDs: complexes.complexes.map(\.id),
      parameterNames: PhenotypeParameter.names, genePhenotypes: phenotypes.vectors,
      complexDirections: phenotypes.complexDirections,
      complexStrengths: phenotypes.complexStrengths, geneEffectSizes: phenotypes.effectSizes,
      genePenetrance: phenotypes.penetrance,
      batchNames: batchNames, plateNames: plateNames,
      plateBatch: plateBatch,
      effectNames: ImagingConditions.parameterNames(channels: Self.channelNames),
      batchEffects: batches.flatMap(\.vector), plateEffects: plates.flatMap(\.vector),
      geneBatchCounts: layout.geneBatchCounts, config: config)
    truth.arrayed = arrayedScreen?.truth
    self.truth = truth
  }

  /// The batch and plate conditions of a pooled screen: each batch drawn around the baseline
  /// (stream `batch`), each plate around its batch (stream `plate`).
  private static func pooledPlates(config: SimulationConfig) -> (
    batches: [ImagingConditions], plates: [ImagingConditions], plateNames: [String],
    plateBatch: [Int32]
  ) {
    let base = ImagingConditions.baseline(channels: channelNames.count)
    let scale = Float(config.batchEffect)
    var batches: [ImagingConditions] = []
    var plates: [ImagingConditions] = []
    var plateNames: [String] = []
    var plateBatch: [Int32] = []
    for b in 0..<config.batches {
      var rng = SeedMixer.generator(config.seed, .batch, b)
      let conditions = base.perturbed(&rng, scale: scale)
      batches.append(conditions)
      for p in 0..<config.platesPerBatch {
        let index = b * config.platesPerBatch + p
        var plateRNG = SeedMixer.generator(config.seed, .plate, index)
        plates.append(
          conditions.perturbed(&plateRNG, scale: scale * ImagingConditions.plateFraction))
        plateNames.append("B\(b + 1)-P\(p + 1)")
        plateBatch.append(Int32(b))
      }
    }
    return (batches, plates, plateNames, plateBatch)
  }

  /// The default number of rendering threads: TensorCore's `Parallel.threads` (the active cores,
  /// or `GRAPE_THREADS` when set).
  public static var defaultThreads: Int { max(1, Parallel.threads) }

  /// Renders the whole screen into `sink`, `chunkSize` cells at a time.
  ///
  /// - Parameters:
  ///   - sink: receives the chunks in order.
  ///   - chunkSize: cells per chunk (at least 1); memory use is about `chunkSize × 8 × size²` bytes.
  ///   - threads: rendering threads (at least 1); at most this many cores are used.
  ///   - progress: called after each chunk with the number of cells done and the total.
  /// - Throws: `SimulationError.invalidArgument` for a chunk size or thread count below 1, and
  ///   whatever the sink throws.
  public func run<S: SimulationSink>(
    into sink: inout S, chunkSize: Int = 512, threads: Int = ScreenSimulator.defaultThreads,
    progress: ((_ done: Int, _ total: Int) -> Void)? = nil
  ) throws {
    guard chunkSize >= 1 else {
      throw SimulationError.invalidArgument(name: "chunk size", value: chunkSize)
    }
    guard threads >= 1 else {
      throw SimulationError.invalidArgument(name: "threads", value: threads)
    }
    var start = 0
    while start < cellCount {
      let end = min(cellCount, start + chunkSize)
      let chunk = try render(cells: start..<end, threads: threads)
      try sink.write(chunk: chunk)
      start = end
      progress?(start, cellCount)
    }
  }

  /// Renders cells `cells` of the screen (a sub-range of `0..<cellCount`) as one chunk.
  ///
  /// - Throws: `SimulationError.cellRange` when the range leaves the screen,
  ///   `.invalidArgument` when `threads < 1`.
  public func render(cells: Range<Int>, threads: Int = ScreenSimulator.defaultThreads)
    throws(SimulationError)
    -> SimulatedChunk
  {
    guard cells.lowerBound >= 0, cells.upperBound <= cellCount else {
      throw .cellRange(lower: cells.lowerBound, upper: cells.upperBound, count: cellCount)
    }
    guard threads >= 1 else { throw .invalidArgument(name: "threads", value: threads) }
    let n = cells.count
    let s = config.size
    let c = channelCount
    let p = PhenotypeParameter.count
    var chunk = SimulatedChunk(
      start: cells.lowerBound, count: n, channels: c, height: s, width: s,
      pixels: [UInt16](repeating: 0, count: n * c * s * s),
      gene: Array(layout.gene[cells]), batch: Array(layout.batch[cells]),
      plate: Array(layout.plate[cells]), well: Array(layout.well[cells]),
      y: [Float](repeating: 0, count: n), x: [Float](repeating: 0, count: n),
      affected: [Int32](repeating: 0, count: n), mitotic: [Int32](repeating: 0, count: n),
      fociCount: [Int32](repeating: 0, count: n), traits: [Float](repeating: 0, count: n * p),
      traitCount: p,
      cellLine: arrayed.map { a in layout.batch[cells].map { Int32(a.lineOfBatch[Int($0)]) } })
    guard n > 0 else { return chunk }
    let stride = c * s * s
    chunk.pixels.withUnsafeMutableBufferPointer { pix in
      chunk.y.withUnsafeMutableBufferPointer { ys in
        chunk.x.withUnsafeMutableBufferPointer { xs in
          chunk.affected.withUnsafeMutableBufferPointer { aff in
            chunk.mitotic.withUnsafeMutableBufferPointer { mit in
              chunk.fociCount.withUnsafeMutableBufferPointer { foc in
                chunk.traits.withUnsafeMutableBufferPointer { tr in
                  let out = ChunkPointers(
                    pixels: pix.baseAddress, y: ys.baseAddress, x: xs.baseAddress,
                    affected: aff.baseAddress, mitotic: mit.baseAddress,
                    foci: foc.baseAddress, traits: tr.baseAddress)
                  let blocks = (n + Self.blockSize - 1) / Self.blockSize
                  let workers = min(threads, blocks)
                  // Worker w renders blocks w, w + workers, …; each cell's bytes depend only on
                  // its index, so the split does not change the result.
                  let work: @Sendable (Int) -> Void = { w in
                    let ws = RenderWorkspace(size: s, channels: c)
                    for block in Swift.stride(from: w, to: blocks, by: workers) {
                      let lo = block * Self.blockSize
                      for j in lo..<min(n, lo + Self.blockSize) {
                        self.renderCell(
                          index: cells.lowerBound + j, workspace: ws, slot: j, stride: stride,
                          into: out)
                      }
                    }
                  }
                  if workers == 1 {
                    work(0)
                  } else {
                    DispatchQueue.concurrentPerform(iterations: workers) { w in work(w) }
                  }
                }
              }
            }
          }
        }
      }
    }
    return chunk
  }

  /// Cells per unit of parallel work.
  static let blockSize = 16

  /// Renders cell `index` into slot `slot` of the chunk buffers.
  private func renderCell(
    index: Int, workspace: RenderWorkspace, slot: Int, stride: Int, into out: ChunkPointers
  ) {
    guard let pixels = out.pixels else { return }
    let g = Int(layout.gene[index])
    let plate = Int(layout.plate[index])
    var rng = SeedMixer.generator(config.seed, .cell, index)
    let line = arrayed.map { $0.lineOfBatch[Int(layout.batch[index])] }
    let (traits, affected) = cellTraits(gene: g, line: line, rng: &rng)
    let conditions =
      arrayed?.conditions(plate: plate, position: Int(layout.well[index]))
      ?? plateConditions[plate]
    let info = CellRenderer.render(
      traits: traits, conditions: conditions, workspace: workspace, rng: &rng,
      out: pixels + slot * stride)
    out.y?[slot] = info.fieldY
    out.x?[slot] = info.fieldX
    out.affected?[slot] = affected ? 1 : 0
    out.mitotic?[slot] = info.mitotic ? 1 : 0
    out.foci?[slot] = Int32(info.fociCount)
    if let t = out.traits {
      for (k, v) in traits.enumerated() { t[slot * traits.count + k] = v }
    }
  }

  /// Draws a cell's traits: natural variation plus, with probability equal to the gene's
  /// penetrance, the gene's phenotype vector. In an arrayed screen (`line` set) the line's
  /// baseline shift is added and the phenotype scaled by the line's factor for the gene.
  func cellTraits(gene g: Int, line: Int? = nil, rng: inout RandomGenerator) -> (
    traits: [Float], affected: Bool
  ) {
    var traits = PhenotypeParameter.drawNatural(&rng)
    let affected = g != controlIndex && rng.uniform() < Double(phenotypes.penetrance[g])
    if let line, let lines = arrayed?.lines {
      for (k, shift) in zip(traits.indices, lines.traits(ofLine: line)) { traits[k] += shift }
      if affected {
        let f = lines.factor(line: line, gene: g)
        for (k, shift) in zip(traits.indices, phenotypes.vector(g)) { traits[k] += f * shift }
      }
    } else if affected {
      let v = phenotypes.vector(g)
      for (k, shift) in zip(traits.indices, v) { traits[k] += shift }
    }
    return (traits, affected)
  }
}

/// Raw pointers into a chunk's buffers, shared by the rendering threads; each thread writes only
/// the slots of its own cells.
private struct ChunkPointers: @unchecked Sendable {
  let pixels: UnsafeMutablePointer<UInt16>?
  let y: UnsafeMutablePointer<Float>?
  let x: UnsafeMutablePointer<Float>?
  let affected: UnsafeMutablePointer<Int32>?
  let mitotic: UnsafeMutablePointer<Int32>?
  let foci: UnsafeMutablePointer<Int32>?
  let traits: UnsafeMutablePointer<Float>?
}
