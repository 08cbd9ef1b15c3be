import ArgumentParser
import ABRA
import Evaluation
import Foundation
import GRAPE
import OPSData
import Training

/// Shared command-line plumbing: error lines on stderr and exit codes.
enum CLISupport {
  /// Writes `line` and a newline to standard error.
  static func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  /// Runs `body`; any error is printed as one `error: …` line and turned into exit status 1.
  static func run(_ body: () throws -> Void) throws {
    do {
      try body()
    } catch let exit as ExitCode {
      throw exit
    } catch let error as CleanExit {
      throw error
    } catch {
      // A rank of a data-parallel run that fails alone would leave the others waiting in a
      // collective call: MPI_Abort stops them all, after this rank's error line.
      if ProcessGroup.world.isDistributed { ProcessGroup.world.abort("\(error)") }
      printError("error: \(error)")
      throw ExitCode.failure
    }
  }

  /// Runs `body`, which trains into the run folder `path`; when it fails before the run has a
  /// checkpoint and the folder did not exist before, the folder is removed, so a failed fresh run
  /// leaves nothing behind (a rerun would start over anyway).
  static func removingFailedRun(_ path: String, _ body: () throws -> Void) throws {
    let existed = FileManager.default.fileExists(atPath: path)
    do {
      try body()
    } catch {
      if !existed, !FileManager.default.fileExists(atPath: RunFolder(path: path).latestPath) {
        try? FileManager.default.removeItem(atPath: path)
      }
      throw error
    }
  }

  /// Refuses a fresh run (no `--resume`) into a folder that already holds a trained one, so the
  /// finished run's `config.json`, `log.tsv` and `latest` are never overwritten.
  static func refuseTrainedRun(_ path: String, resume: Bool) throws {
    if !resume, FileManager.default.fileExists(atPath: RunFolder(path: path).latestPath) {
      throw ValidationError("--run \(path) already holds a trained run; pass --resume to continue it or choose another folder")
    }
  }

  /// The exit status of a run stopped by Ctrl-C after its checkpoint was written (128 + SIGINT,
  /// as shells report an interrupted command), so scripts can tell it from a finished run.
  static let interrupted = ExitCode(130)

  /// Ctrl-C during training: the first sets `flag`, which makes the loop finish the current step
  /// and write a checkpoint; a second one aborts. Cancel the returned source when training returns.
  static func stopOnInterrupt(_ flag: StopFlag) -> DispatchSourceSignal {
    signal(SIGINT, SIG_IGN)
    let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    interrupt.setEventHandler {
      note("\ninterrupted: writing a checkpoint after this step (Ctrl-C again to abort)")
      flag.set()
      signal(SIGINT, SIG_DFL)
    }
    interrupt.resume()
    return interrupt
  }

  /// Splits a comma-separated list, trimming spaces and dropping empty items.
  static func list(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
      !$0.isEmpty
    }
  }

  /// The complex of each gene of a complexes table, as the metrics take it.
  static func complexAssignment(_ table: ComplexTable) throws -> ComplexAssignment {
    try ComplexAssignment(
      genes: table.complexes.flatMap(\.genes), complexIDs: table.complexes.flatMap { c in c.genes.map { _ in c.id } },
      complexNames: table.complexes.flatMap { c in c.genes.map { _ in c.name } })
  }
}

/// `--seed`, the same on every command that draws random numbers: the same seed and inputs give
/// the same output.
struct SeedOption: ParsableArguments {
  @Option(help: "Seed of every random draw of the command (weights, sampling, k-means restarts, baselines).")
  var seed: UInt64 = 0
}

/// `--force`, on every command that writes a file: lets the output replace an existing file of
/// another kind (``OutputGuard``). An output that is one of the command's inputs is refused always.
struct ForceOption: ParsableArguments {
  @Flag(help: "Replace an existing output file even when it is not of the kind this command writes.")
  var force = false
}

extension GRAPEPreset: ExpressibleByArgument {}
extension ClassifierMethod: ExpressibleByArgument {}
extension LearningRateSchedule: ExpressibleByArgument {}
extension InputNormalization: ExpressibleByArgument {}
extension SamplerKind: ExpressibleByArgument {}
