/// The settings of an arrayed screen (`grape simulate --layout arrayed`), laid out like RxRx1:
/// many experiments, each one batch of one cell line, every perturbation in wells of its own.
///
/// | property | flag | default | meaning |
/// |---|---|---|---|
/// | `experiments` | `--experiments` | 12 | experiments (entries of `/batches`, one batch each) |
/// | `cellLines` | `--cell-lines` | 2 | cell lines the experiments are spread over (at most `experiments`) |
/// | `wellsPerGene` | `--wells-per-gene` | 2 | wells of each targeting gene in each experiment |
/// | `cellsPerWell` | `--cells-per-well` | 20 | cells imaged in each well |
/// | `cellLineEffect` | `--cell-line-effect` | 1.0 | scale of the differences between cell lines (0 = all lines alike) |
///
/// The control (`SimulationConfig.controlName`) gets `controls × wellsPerGene` wells in each
/// experiment; `SimulationConfig.platesPerBatch` is the number of plates of each experiment, over
/// which its wells are placed at random. `SimulationConfig.cellsPerGene` and `batches` do not apply.
public struct ArrayedScreenConfig: Sendable, Codable, Equatable {
  /// Number of experiments (at least 12 is RxRx1-like; 1…1000 accepted).
  public var experiments: Int = 12
  /// Number of cell lines (1…experiments).
  public var cellLines: Int = 2
  /// Wells of each targeting gene per experiment (at least 1).
  public var wellsPerGene: Int = 2
  /// Cells per well (at least 1).
  public var cellsPerWell: Int = 20
  /// Scale of the cell-line differences (0…10; 0 = none).
  public var cellLineEffect: Double = 1.0

  /// The default arrayed layout (see the table above).
  public init() {}

  /// An arrayed layout with the given values; the others keep their defaults.
  public init(
    experiments: Int = 12, cellLines: Int = 2, wellsPerGene: Int = 2, cellsPerWell: Int = 20,
    cellLineEffect: Double = 1.0
  ) {
    self.experiments = experiments
    self.cellLines = cellLines
    self.wellsPerGene = wellsPerGene
    self.cellsPerWell = cellsPerWell
    self.cellLineEffect = cellLineEffect
  }

  /// Checks every value against its range.
  ///
  /// - Throws: `SimulationError.invalidValue` naming the first flag out of range.
  public func validate() throws(SimulationError) {
    func require(_ ok: Bool, _ flag: String, _ value: String, _ requirement: String)
      throws(SimulationError)
    {
      if !ok { throw .invalidValue(flag: flag, value: value, requirement: requirement) }
    }
    try require(
      (1...1000).contains(experiments), "--experiments", "\(experiments)", "must be in 1...1000")
    try require(
      cellLines >= 1, "--cell-lines", "\(cellLines)", "must be at least 1")
    try require(
      cellLines <= experiments, "--cell-lines", "\(cellLines)",
      "must be at most the number of experiments (--experiments \(experiments)), one experiment per line at least"
    )
    try require(
      (1...1000).contains(wellsPerGene), "--wells-per-gene", "\(wellsPerGene)",
      "must be in 1...1000")
    try require(
      (1...100_000).contains(cellsPerWell), "--cells-per-well", "\(cellsPerWell)",
      "must be in 1...100000")
    let maxS = SimulationConfig.maximumStrength
    try require(
      cellLineEffect.isFinite && cellLineEffect >= 0 && cellLineEffect <= maxS,
      "--cell-line-effect", "\(cellLineEffect)",
      "must be a number in 0...\(maxS) (0 = all cell lines alike)")
  }

  /// The experiment indices of each cell line: contiguous blocks of (nearly) equal size, the
  /// earlier lines taking one more when the experiments do not divide evenly.
  public var lineOfExperiment: [Int] {
    (0..<experiments).map { $0 * cellLines / experiments }
  }
}
