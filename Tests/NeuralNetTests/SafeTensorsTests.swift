import GrapeSupport
import Foundation
import Testing
import TensorCore
import TestSupport
import NeuralNet

@Suite struct SafeTensorsTests {
  func tempPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grape-st-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
  }

  @Test func roundTrip() throws {
    var rng = RandomGenerator(seed: 1)
    let tensors = ["a.weight": Tensor.randn([3, 4, 2], using: &rng), "b": Tensor(5), "c.empty": Tensor.zeros([0, 3])]
    let path = tempPath("rt.safetensors")
    try SafeTensors.write(tensors, metadata: ["step": "12"], to: path)
    let back = try SafeTensors.read(path)
    #expect(back.metadata["step"] == "12")
    #expect(Set(back.tensors.keys) == Set(tensors.keys))
    for (k, v) in tensors { assertClose(try #require(back.tensors[k]), v, rtol: 0, atol: 0, k) }
    let raw = try Data(contentsOf: URL(fileURLWithPath: path))
    let headerLength = raw.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
    #expect(headerLength % 8 == 0)
  }

  @Test func readsFileWrittenByPython() throws {
    let url = try #require(Bundle.module.url(forResource: "python_written", withExtension: "safetensors", subdirectory: "Fixtures"))
    let c = try SafeTensors.read(url.path)
    let expected = Tensor((0..<6).map { Float($0) / 4 - 0.5 }, shape: [2, 3])
    for name in ["layer.weight", "layer.half", "layer.bf16", "layer.double"] {
      assertClose(try #require(c.tensors[name]), expected, rtol: 0, atol: 0, name)
    }
    #expect(c.dtypes["layer.bf16"] == "BF16" && c.dtypes["layer.half"] == "F16")
    #expect(c.tensors["counter"]?.item == 42 && c.tensors["counter"]?.shape == [])
    #expect(c.tensors["empty"]?.shape == [0, 4])
    #expect(c.metadata["note"] == "fixture")
  }

  @Test func truncatedAndGarbledFilesGetClearErrors() throws {
    let path = tempPath("ok.safetensors")
    try SafeTensors.write(["w": Tensor.ones([16])], to: path)
    let good = try Data(contentsOf: URL(fileURLWithPath: path))
    let cases: [(String, Data, String)] = [
      ("empty", Data(), "shorter than"),
      ("truncated data", good.prefix(good.count - 4), "outside"),
      ("huge header", Data([0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0]) + good.dropFirst(8), "header length"),
      ("garbled header", good.prefix(8) + Data(repeating: 0x41, count: good.count - 8), "not a JSON object"),
    ]
    for (label, bytes, fragment) in cases {
      let p = tempPath("\(label).safetensors")
      try bytes.write(to: URL(fileURLWithPath: p))
      do {
        _ = try SafeTensors.read(p)
        Issue.record("\(label): no error")
      } catch let e as SerializationError {
        #expect(e.description.contains(p) && e.description.contains(fragment), "\(label): \(e)")
      }
    }
  }

  @Test func atomicWriteKeepsPreviousFileOnFailure() throws {
    let path = tempPath("keep.safetensors")
    try SafeTensors.write(["w": Tensor.ones([2])], to: path)
    // A write into a missing folder fails before touching anything.
    #expect(throws: SerializationError.self) { try SafeTensors.write(["w": Tensor.zeros([2])], to: "/nonexistent-dir/x.safetensors") }
    #expect(try SafeTensors.read(path).tensors["w"]?.scalars == [1, 1])
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    #expect(leftovers == ["keep.safetensors"])
  }

  /// Python's `safetensors` reads what we write.
  @Test(.enabled(if: Python.available(["safetensors.numpy"]), "needs python3 with safetensors and numpy (make test installs them)"))
  func pythonReadsOurFile() throws {
    let path = tempPath("py.safetensors")
    try SafeTensors.write(["x.y": Tensor([1.5, -2, 3], shape: [3, 1])], metadata: ["k": "v"], to: path)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let script = "from safetensors.numpy import load_file; from safetensors import safe_open; d = load_file('\(path)'); a = d['x.y']; assert a.shape == (3, 1) and a.dtype.name == 'float32' and list(a.ravel()) == [1.5, -2.0, 3.0]; assert safe_open('\(path)', 'np').metadata() == {'k': 'v'}"
    p.arguments = ["python3", "-c", script]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
  }
}
