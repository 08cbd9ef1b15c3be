#if canImport(Glibc)
  import Glibc
#endif

/// Resident memory of this process.
public enum ProcessMemory {
  /// Peak resident set size in bytes (getrusage's ru_maxrss).
  public static var peakResidentBytes: Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Int(usage.ru_maxrss) * 1024
  }

  /// Current resident set size in bytes (from /proc/self/statm; 0 where unavailable).
  public static var residentBytes: Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var buf = [CChar](repeating: 0, count: 128)
    guard fgets(&buf, 128, f) != nil else { return 0 }
    let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
    guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }
}

/// CPU time this process has used.
public enum ProcessCPUTime {
  /// User plus system CPU seconds of all threads so far (getrusage).
  public static var seconds: Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return s(usage.ru_utime) + s(usage.ru_stime)
  }
}
