import GrapeSupport
import Foundation
import Testing

@testable import Evaluation

@Suite("JSON and SVG writers")
struct OutputFormatTests {
  @Test("JSON keeps key order, escapes strings and writes non-finite numbers as null")
  func json() throws {
    let v = JSONValue.object([
      ("z", .int(3)), ("a", .number(0.25)), ("nan", .number(.nan)), ("inf", .number(.infinity)),
      ("whole", .number(2)), ("text", .string("a\"b\\c\nd\u{01}é")),
      ("list", .array([.bool(true), .null])),
      ("empty", .object([])),
    ])
    let compact = v.serialized(indent: 0)
    #expect(
      compact
        == #"{"z":3,"a":0.25,"nan":null,"inf":null,"whole":2.0,"text":"a\"b\\c\nd\u0001é","list":[true, null],"empty":{}}"#
        .replacingOccurrences(of: "[true, null]", with: "[true,null]"))
    let parsed = try #require(
      try JSONSerialization.jsonObject(with: Data(v.serialized().utf8)) as? [String: Any])
    #expect(parsed["text"] as? String == "a\"b\\c\nd\u{01}é")
    #expect(parsed["nan"] is NSNull && parsed["a"] as? Double == 0.25)
    #expect(v["a"] == .number(0.25) && v["missing"] == nil)
  }

  @Test("JSON numbers round-trip exactly")
  func numbers() throws {
    for x in [0.1, 1.0 / 3, 1e-7, 123456.789, -2.5e-12, 0.6093728157980174] {
      // Foundation's JSON parser on Linux may misround the last digit, so parse the text with
      // Swift's correctly rounded Double(String) (what Python's json and NumPy do).
      let text = JSONValue.array([.number(x)]).serialized(indent: 0)
      let inner = String(text.dropFirst().dropLast())
      #expect(Double(inner) == x, "\(text)")
    }
  }

  @Test("SVG text is escaped and axis ticks are round numbers inside the range")
  func svg() {
    var doc = SVGDocument(width: 100, height: 50)
    doc.text("a < b & \"c\"", x: 1, y: 2)
    let out = doc.rendered()
    #expect(out.contains("a &lt; b &amp; &quot;c&quot;"))
    #expect(!out.contains("a < b"))
    let scale = AxisScale(values: [0.03, 0.97])
    #expect(scale.ticks.allSatisfy { $0 >= scale.lower - 1e-12 && $0 <= scale.upper + 1e-12 })
    #expect(scale.ticks.contains(0.5) || scale.ticks.contains(0.4))
    #expect(AxisScale.label(0.25) == "0.25" && AxisScale.label(3) == "3")
    let flat = AxisScale(values: [2, 2])
    #expect(flat.lower < 2 && flat.upper > 2)
  }

  @Test("benchmark lines are one JSON object with the contract's keys")
  func benchmarkLine() throws {
    let line = BenchmarkMeasurement(metric: "kmeans", value: 0.5, unit: "s", input: "105x500")
      .jsonLine()
    #expect(!line.contains("\n"))
    let parsed = try #require(
      try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    #expect(parsed["bench"] as? String == "evaluate" && parsed["metric"] as? String == "kmeans")
    #expect(parsed["value"] as? Double == 0.5 && parsed["unit"] as? String == "s")
  }

  @Test("benchmark data equals NumPy's rebuild bit for bit")
  func benchmarkData() {
    // From scripts/reference/eval_bench_sklearn.py:
    //   embedding(3, 4, 2)[0].ravel() and cells(5, 3, 2, 2) (values, genes, batches).
    let embedding: [Float] = [
      0.21919004619121552, -1.1739615201950073, 0.22384901344776154, 0.6008665561676025,
      -0.14511866867542267, -0.3806609809398651, -0.828242838382721, -0.13934636116027832,
      -0.9263665080070496, -0.84806227684021, -0.7432506084442139, 0.721287727355957,
    ]
    let (v, labels) = BenchmarkData.embedding(genes: 3, dimension: 4, clusters: 2)
    #expect(v == embedding && labels == [0, 1, 0])
    let cells: [Float] = [
      -2.6492459774017334, 1.013171672821045, 0.16189856827259064, -0.625680148601532,
      1.0880736112594604, -4.039661884307861, -3.5912303924560547, 2.2742364406585693,
      2.0758862495422363, 1.1469454765319824, -0.3369547128677368, -3.144813299179077,
      -1.5655395984649658, 2.1379234790802, 0.215031698346138,
    ]
    let c = BenchmarkData.cells(cells: 5, dimension: 3, genes: 2, batches: 2)
    #expect(c.values == cells && c.genes == [0, 1, 0, 1, 0] && c.batches == [0, 0, 1, 1, 0])
  }
}
