import Foundation
import NeuralNet
import OPSData

/// The readers of untrusted files, each fed arbitrary bytes: a thrown error is the expected
/// outcome of bad input, a crash or a sanitizer report is a bug. `make fuzz` builds this target
/// with libFuzzer (`-sanitize=fuzzer,address -DFUZZING`) and runs each reader for a bounded time;
/// a plain build gives a replay tool: `grape-fuzz TARGET FILE...` runs the files through a reader.
enum FuzzTarget: String, CaseIterable {
  /// `SafeTensors.decode` (run weights and checkpoints).
  case safetensors
  /// `TIFFReader.read` through libtiff (import's images).
  case tiff
  /// `CellStore` and a read of its first cells through HDF5 (every command's `--data`).
  case cellstore
  /// `GeneEmbedding.read` of a text table (`grape evaluate --embedding profiles.csv`).
  case table
  /// `GeneEmbedding.read` of an AnnData file (`grape evaluate --embedding cells.h5ad`).
  case anndata

  /// The file that path-based readers are given, one per process.
  static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("grape-fuzz-\(getpid())").path

  /// Runs one input through the reader; errors are swallowed, as the tool reports them.
  func run(_ data: Data) {
    switch self {
    case .safetensors:
      if let contents = try? SafeTensors.decode(data) { _ = contents.tensors.count }
    case .tiff:
      guard (try? data.write(to: URL(fileURLWithPath: Self.scratch + ".tif"))) != nil else { return }
      _ = try? TIFFReader.read(Self.scratch + ".tif")
    case .cellstore:
      guard (try? data.write(to: URL(fileURLWithPath: Self.scratch + ".h5"))) != nil else { return }
      if let store = try? CellStore(path: Self.scratch + ".h5") {
        _ = try? store.images(at: Array(0..<min(store.count, 4)))
      }
    case .table:
      guard (try? data.write(to: URL(fileURLWithPath: Self.scratch + ".csv"))) != nil else { return }
      _ = try? GeneEmbedding.read(from: Self.scratch + ".csv")
    case .anndata:
      guard (try? data.write(to: URL(fileURLWithPath: Self.scratch + ".h5ad"))) != nil else { return }
      _ = try? GeneEmbedding.read(from: Self.scratch + ".h5ad")
    }
  }

  /// The target named by `GRAPE_FUZZ_TARGET`.
  static let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["GRAPE_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
      FileHandle.standardError.write(Data("GRAPE_FUZZ_TARGET must be one of \(allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
      exit(2)
    }
    return target
  }()
}

#if FUZZING
  /// libFuzzer's driver (compiler-rt), which runs `callback` on each input it makes.
  @_silgen_name("LLVMFuzzerRunDriver")
  func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
  ) -> CInt

  /// The executable's entry point under SwiftPM (which names it after the target): libFuzzer's
  /// driver with the selected reader.
  @_cdecl("grape_fuzz_main")
  public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    _ = FuzzTarget.selected
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { bytes, size in
      FuzzTarget.selected.run(bytes.map { Data(bytes: $0, count: size) } ?? Data())
      return 0
    }
  }
#else
  /// Replays inputs: `grape-fuzz TARGET FILE...` (a corpus, or a crash file libFuzzer wrote).
  @main struct Replay {
    static func main() {
      let arguments = CommandLine.arguments.dropFirst()
      guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
        print("usage: grape-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE...")
        exit(2)
      }
      for path in arguments.dropFirst() {
        guard let data = FileManager.default.contents(atPath: path) else {
          FileHandle.standardError.write(Data("grape-fuzz: \(path): cannot read\n".utf8))
          exit(1)
        }
        target.run(data)
      }
      print("replayed \(arguments.count - 1) inputs through \(target.rawValue)")
    }
  }
#endif
