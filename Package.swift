// swift-tools-version:6.0
import PackageDescription

// MARK: - System libraries (thin shims over Debian's -dev packages)

let systemLibraries: [Target] = [
  .systemLibrary(
    name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
    providers: [.apt(["libopenblas-dev"])]),
  .systemLibrary(
    name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-serial",
    providers: [.apt(["libhdf5-dev"])]),
  .systemLibrary(
    name: "CTIFF", path: "Sources/CTIFF", pkgConfig: "libtiff-4",
    providers: [.apt(["libtiff-dev"])]),
  .systemLibrary(
    name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
    providers: [.apt(["zlib1g-dev"])]),
  // Open MPI, opened with dlopen when a command runs under mpirun or srun: builds need no MPI.
  .target(name: "CMPI", path: "Sources/CMPI", linkerSettings: [.linkedLibrary("dl")]),
]

// Release-like optimisation for the numeric kernels even in debug test builds would change
// floating-point reproducibility between configurations, so it is left to `-c release`.
let unsafeFlags: [SwiftSetting] = []

// MARK: - Library modules (dependencies point down the list only)

let libraries: [Target] = [
  .target(name: "GrapeSupport"),
  .target(name: "TensorCore", dependencies: ["GrapeSupport", "CBLAS"], swiftSettings: unsafeFlags),
  .target(name: "NeuralNet", dependencies: ["TensorCore"]),
  .target(name: "OPSData", dependencies: ["GrapeSupport", "CHDF5", "CTIFF", "CZlib"]),
  .target(name: "Simulation", dependencies: ["GrapeSupport", "OPSData"]),
  .target(name: "Training", dependencies: ["GrapeSupport", "TensorCore", "NeuralNet", "OPSData", "CMPI"]),
  .target(name: "ABRA", dependencies: ["GrapeSupport", "TensorCore", "NeuralNet", "OPSData", "Training"]),
  .target(name: "GRAPE", dependencies: ["GrapeSupport", "TensorCore", "NeuralNet", "OPSData", "Training", "ABRA"]),
  .target(name: "Evaluation", dependencies: ["GrapeSupport", "OPSData", "CBLAS"]),
  .executableTarget(
    name: "grape",
    dependencies: [
      "GrapeSupport", "TensorCore", "NeuralNet", "OPSData", "Simulation", "Training", "ABRA", "GRAPE", "Evaluation",
      .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]),
  // The file readers under libFuzzer (`make fuzz`); a plain build replays inputs.
  .executableTarget(name: "grape-fuzz", dependencies: ["NeuralNet", "OPSData"]),
]

// MARK: - Test support and unit test bundles

let tests: [Target] = [
  .target(name: "TestSupport", dependencies: ["TensorCore", "OPSData", "CZlib"], path: "Tests/TestSupport"),
  .testTarget(
    name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"],
    resources: [.copy("Fixtures")]),
  .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "TestSupport"], resources: [.copy("Fixtures")]),
  .testTarget(name: "OPSDataTests", dependencies: ["OPSData", "TestSupport"], resources: [.copy("Fixtures")]),
  .testTarget(name: "SimulationTests", dependencies: ["Simulation", "OPSData", "GrapeSupport", "TensorCore", "TestSupport"]),
  .testTarget(name: "GRAPETests", dependencies: ["GRAPE", "Training", "TestSupport"], resources: [.copy("Fixtures")]),
  .testTarget(name: "ABRATests", dependencies: ["ABRA", "GRAPE", "Training", "TestSupport"], resources: [.copy("Fixtures")]),
  .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "GrapeSupport", "TestSupport"], resources: [.copy("Fixtures")]),
  .testTarget(name: "GrapeCLITests", dependencies: ["TestSupport", "OPSData", "NeuralNet", "TensorCore", "GrapeSupport"]),
]

let package = Package(
  name: "Grape",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "grape", targets: ["grape"]),
    .library(name: "GrapeKit", targets: ["GrapeSupport", "TensorCore", "NeuralNet", "OPSData", "Training", "ABRA", "GRAPE", "Evaluation"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: systemLibraries + libraries + tests
)
