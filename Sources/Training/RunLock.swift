#if canImport(Glibc)
  import Glibc
#else
  import Darwin
#endif
import Foundation
import GrapeSupport

/// One writer per run folder: an advisory lock (`flock`) on `RUN/.lock`, which records the
/// holder's process id. A second `grape train` (or `classify train`) on the same folder gets a
/// clear error instead of interleaving its log rows and checkpoints with the first's. The
/// operating system releases the lock when the holder exits, however it exits.
public final class RunLock {
  private let descriptor: Int32

  /// Takes the lock of `run`, creating the folder if needed.
  /// - Throws: ``TrainingError/runInUse(path:pid:)`` when another process holds it,
  ///   ``TrainingError/invalidRun(path:reason:)`` when the folder or lock file cannot be made.
  public init(run: RunFolder) throws {
    let path = "\(run.path)/.lock"
    do { try Folder.create(run.path) } catch { throw TrainingError.invalidRun(path: run.path, reason: error.reason) }
    let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw TrainingError.invalidRun(path: path, reason: "cannot create the lock file (\(String(cString: strerror(errno))))") }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      let holder = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
      close(fd)
      throw TrainingError.runInUse(path: run.path, pid: holder)
    }
    let pid = Array("\(getpid())\n".utf8)
    _ = ftruncate(fd, 0)
    _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    descriptor = fd
    RunLock.removeStaleTemporaries(of: run)
  }

  deinit {
    flock(descriptor, LOCK_UN)
    close(descriptor)
  }

  /// Checkpoint folders a killed writer left half-written (only the lock holder may remove them).
  private static func removeStaleTemporaries(of run: RunFolder) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: run.checkpointsPath)) ?? []
    for name in names where name.hasPrefix(".step-") && name.contains(".tmp") {
      try? FileManager.default.removeItem(atPath: "\(run.checkpointsPath)/\(name)")
    }
  }
}
