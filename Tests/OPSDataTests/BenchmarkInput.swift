import GrapeSupport
import Foundation
import TensorCore
import Testing

@testable import OPSData

/// Writes the input of the import benchmark (`scripts/opsdata_import_benchmark.sh`): 4-channel
/// 2048×2048 uint16 tiles with cells on a jittered 64-pixel grid, and a table of centroids.
///
/// Runs only when `GRAPE_IMPORT_BENCH_DIR` names an output folder; `GRAPE_IMPORT_BENCH_TILES`
/// sets the number of tiles (default 230, about 207,000 cells with 96-pixel crops).
@Suite struct BenchmarkInput {
  static let directory = ProcessInfo.processInfo.environment["GRAPE_IMPORT_BENCH_DIR"]

  @Test(
    .enabled(
      if: directory != nil && ProcessInfo.processInfo.environment["GRAPE_IMPORT_BENCH_CROPS"] == nil,
      "writes the import benchmark's input when GRAPE_IMPORT_BENCH_DIR is set"
    ))
  func writeBenchmarkInput() throws {
    guard let directory = Self.directory else { return }
    let tiles = Int(ProcessInfo.processInfo.environment["GRAPE_IMPORT_BENCH_TILES"] ?? "") ?? 230
    let size = 2048
    let channels = 4
    let patch = 96
    let spacing = 64
    try FileManager.default.createDirectory(
      atPath: directory + "/tiles", withIntermediateDirectories: true)
    var generator = RandomGenerator(seed: 2024)

    // A background of noise (low bits random, as camera noise), shared by all tiles with an offset.
    let plane = size * size
    var background = [UInt16](repeating: 0, count: channels * plane)
    for i in background.indices { background[i] = UInt16(280 + Int(generator.next() & 63)) }
    // 64 cell templates: a bright disc (nucleus) in a dimmer disc (cell body), with noise.
    var templates: [[UInt16]] = []
    for _ in 0..<64 {
      var cell = [UInt16](repeating: 0, count: channels * patch * patch)
      let radius = 14 + Double(generator.int(below: 12))
      let nucleus = radius * (0.4 + 0.2 * generator.uniform())
      let (cy, cx) = (48 + generator.uniform(-4, 4), 48 + generator.uniform(-4, 4))
      for c in 0..<channels {
        let level = 1500 + generator.uniform() * 8000
        for y in 0..<patch {
          for x in 0..<patch {
            let r = ((Double(y) - cy) * (Double(y) - cy) + (Double(x) - cx) * (Double(x) - cx))
              .squareRoot()
            var v = 0.0
            if c == 0 {
              v = r < nucleus ? level : 0
            } else {
              v = r < radius ? level * (0.5 + 0.5 * (1 - r / radius)) : 0
            }
            cell[(c * patch + y) * patch + x] = UInt16(
              min(60000, v + Double(generator.next() & 255)))
          }
        }
      }
      templates.append(cell)
    }

    let genes = ["nontargeting"] + (0..<1000).map { String(format: "GENE%04d", $0) }
    var table = "image,gene,batch,plate,well,tile,y,x\n"
    let grid = (size - patch) / spacing + 1
    for t in 0..<tiles {
      var pixels = [UInt16](repeating: 0, count: channels * plane)
      let shift = (t * 7919) % plane
      for c in 0..<channels {
        let base = c * plane
        pixels[base..<(base + plane - shift)] = background[(base + shift)..<(base + plane)]
        pixels[(base + plane - shift)..<(base + plane)] = background[base..<(base + shift)]
      }
      let plate = "plate\(t % 8)"
      for gy in 0..<grid {
        for gx in 0..<grid {
          let y = 40 + gy * spacing + generator.int(below: 21) - 10
          let x = 40 + gx * spacing + generator.int(below: 21) - 10
          let template = templates[generator.int(below: templates.count)]
          let top = y - patch / 2
          let left = x - patch / 2
          for c in 0..<channels {
            for py in 0..<patch where top + py >= 0 && top + py < size {
              for px in 0..<patch where left + px >= 0 && left + px < size {
                let value = template[(c * patch + py) * patch + px]
                let index = c * plane + (top + py) * size + left + px
                if value > pixels[index] { pixels[index] = value }
              }
            }
          }
          let gene = generator.uniform() < 0.1 ? genes[0] : genes[1 + generator.int(below: 1000)]
          table += "tiles/t\(t).tif,\(gene),\(plate),\(plate),A\(t % 6 + 1),\(t),\(y),\(x)\n"
        }
      }
      try TIFFWriter.write(
        TIFFImage(width: size, height: size, channels: channels, pixels: .uint16(pixels)),
        to: "\(directory)/tiles/t\(t).tif",
        options: TIFFWriteOptions(compression: .lzw, predictor: true))
    }
    try table.write(toFile: directory + "/cells.csv", atomically: true, encoding: .utf8)
  }

  /// Crop files for the crop-file mode: `GRAPE_IMPORT_BENCH_CROPS` files of 4 × 96 × 96 uint16
  /// (one page per channel, LZW), 100 per folder, and `crops.csv`.
  @Test(
    .enabled(
      if: directory != nil && ProcessInfo.processInfo.environment["GRAPE_IMPORT_BENCH_CROPS"] != nil,
      "writes crop files for the import benchmark when GRAPE_IMPORT_BENCH_DIR and GRAPE_IMPORT_BENCH_CROPS are set"
    ))
  func writeCropFiles() throws {
    guard let directory = Self.directory,
      let count = Int(ProcessInfo.processInfo.environment["GRAPE_IMPORT_BENCH_CROPS"] ?? "")
    else { return }
    var generator = RandomGenerator(seed: 7)
    let channels = 4
    let patch = 96
    var base = [UInt16](repeating: 0, count: channels * patch * patch)
    for i in base.indices { base[i] = UInt16(300 + Int(generator.next() & 1023)) }
    var table = "image,gene,batch\n"
    for k in 0..<count {
      let folder = "crops/\(k / 100)"
      if k % 100 == 0 {
        try FileManager.default.createDirectory(
          atPath: "\(directory)/\(folder)", withIntermediateDirectories: true)
      }
      var pixels = base
      let shift = (k * 7919) % pixels.count
      pixels.withUnsafeMutableBufferPointer { p in
        for i in stride(from: shift % 97, to: p.count, by: 97) {
          p[i] = UInt16(truncatingIfNeeded: Int(p[i]) + k)
        }
      }
      try TIFFWriter.write(
        TIFFImage(width: patch, height: patch, channels: channels, pixels: .uint16(pixels)),
        to: "\(directory)/\(folder)/c\(k).tif",
        options: TIFFWriteOptions(compression: .lzw, predictor: true))
      let gene = k % 10 == 0 ? "nontargeting" : String(format: "GENE%04d", k % 1000)
      table += "\(folder)/c\(k).tif,\(gene),plate\(k % 8)\n"
    }
    try table.write(toFile: directory + "/crops.csv", atomically: true, encoding: .utf8)
  }
}
