import CMPI
import Foundation
import GrapeSupport

/// The processes that run one command together: one process on its own, or the ranks that
/// `mpirun -np N` or `srun` started, joined through MPI (Open MPI, opened at run time; see
/// `Sources/CMPI`).
///
/// Data-parallel training gives each rank its share of every mini-batch and averages the
/// gradients over the ranks (``AllreduceGradients``); rank 0, the primary, alone writes the run
/// folder and prints. A failed MPI call, or an error on one rank while others wait for it, ends
/// every rank through ``abort(_:)``.
public final class ProcessGroup: @unchecked Sendable {
  /// This process's rank, 0 ..< ``size``.
  public let rank: Int
  /// The number of processes.
  public let size: Int
  private let usesMPI: Bool

  private init(rank: Int, size: Int, usesMPI: Bool) {
    self.rank = rank
    self.size = size
    self.usesMPI = usesMPI
  }

  /// A single process (rank 0 of 1).
  public static let single = ProcessGroup(rank: 0, size: 1, usesMPI: false)

  /// The group this process was launched in: joined through MPI when a launcher says there is
  /// more than one rank (`OMPI_COMM_WORLD_SIZE` from mpirun, `PMI_SIZE`, or `SLURM_NTASKS` with
  /// PMIx under srun), else ``single``. `GRAPE_MPI=0` forces a single process.
  public static let world: ProcessGroup = launch(environment: ProcessInfo.processInfo.environment)

  /// Whether this is rank 0, which writes files and prints.
  public var isPrimary: Bool { rank == 0 }

  /// Whether more than one process takes part.
  public var isDistributed: Bool { size > 1 }

  /// The number of ranks a launcher announces in `environment`, if any.
  public static func launchedRanks(environment env: [String: String]) -> Int? {
    if env["GRAPE_MPI"] == "0" { return nil }
    let announced = env["OMPI_COMM_WORLD_SIZE"] ?? env["PMI_SIZE"] ?? (env["PMIX_RANK"] != nil ? env["SLURM_NTASKS"] : nil)
    return announced.flatMap { Int($0) }
  }

  static func launch(environment: [String: String]) -> ProcessGroup {
    guard let ranks = launchedRanks(environment: environment), ranks > 1 else { return single }
    var message = [CChar](repeating: 0, count: 512)
    guard grape_mpi_load(&message, message.count) == 0 else {
      let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      fatal("started as one of \(ranks) ranks, but MPI cannot be used: \(reason)")
    }
    var rank: Int32 = 0
    var size: Int32 = 0
    guard grape_mpi_init(&rank, &size) == 0 else { fatal("MPI_Init_thread failed on one of \(ranks) ranks") }
    atexit { _ = grape_mpi_finalize() }
    return ProcessGroup(rank: Int(rank), size: Int(size), usesMPI: true)
  }

  private static func fatal(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
  }

  /// Ends every rank with `code` after printing `message` (an error that the other ranks,
  /// waiting in a collective call, cannot see).
  public func abort(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("error: rank \(rank) of \(size): \(message)\n".utf8))
    if usesMPI { grape_mpi_abort(code) }
    exit(code)
  }

  private func check(_ rc: Int32, _ what: String) {
    if rc != 0 { abort("\(what) failed (MPI error \(rc))") }
  }

  // MARK: Collectives (every rank calls them in the same order)

  /// Sums `values` over the ranks, in place.
  public func allreduceSum(_ values: inout [Float]) {
    guard usesMPI, !values.isEmpty else { return }
    let n = values.count
    values.withUnsafeMutableBufferPointer { check(grape_mpi_allreduce_sum_float($0.baseAddress, n), "MPI_Allreduce") }
  }

  /// Sums `values` over the ranks, in place.
  public func allreduceSum(_ values: inout [Double]) {
    guard usesMPI, !values.isEmpty else { return }
    let n = values.count
    values.withUnsafeMutableBufferPointer { check(grape_mpi_allreduce_sum_double($0.baseAddress, n), "MPI_Allreduce") }
  }

  /// The largest and smallest of each value over the ranks.
  public func extremes(_ values: [Double]) -> (max: [Double], min: [Double]) {
    guard usesMPI, !values.isEmpty else { return (values, values) }
    var high = values
    var low = values
    let n = values.count
    high.withUnsafeMutableBufferPointer { check(grape_mpi_allreduce_max_double($0.baseAddress, n), "MPI_Allreduce") }
    low.withUnsafeMutableBufferPointer { check(grape_mpi_allreduce_min_double($0.baseAddress, n), "MPI_Allreduce") }
    return (high, low)
  }

  /// Whether `flag` is set on any rank.
  public func any(_ flag: Bool) -> Bool {
    guard usesMPI else { return flag }
    return extremes([flag ? 1 : 0]).max[0] > 0
  }

  /// Rank `root`'s bytes, on every rank.
  public func broadcast(_ bytes: inout [UInt8], root: Int = 0) {
    guard usesMPI else { return }
    var count = [Double(bytes.count)]
    if rank != root { count = [0] }
    allreduceSum(&count)
    if rank != root { bytes = [UInt8](repeating: 0, count: Int(count[0])) }
    let n = bytes.count
    bytes.withUnsafeMutableBytes { check(grape_mpi_broadcast_bytes($0.baseAddress, n, Int32(root)), "MPI_Bcast") }
  }

  /// Waits until every rank gets here.
  public func barrier() {
    guard usesMPI else { return }
    check(grape_mpi_barrier(), "MPI_Barrier")
  }

  // MARK: Sharing out work

  /// This rank's contiguous share of `count` items: ranks get ⌊count/size⌋ or one more, in
  /// rank order.
  public func share(of count: Int) -> Range<Int> {
    let base = count / size
    let extra = count % size
    let start = rank * base + min(rank, extra)
    return start..<(start + base + (rank < extra ? 1 : 0))
  }
}
