import GrapeSupport

/// Derives independent, reproducible random streams from one seed.
///
/// Every random quantity of the simulator comes from a stream named by a tag and an index (a
/// complex, a gene, a batch, a plate, a cell). Streams are derived by hashing, not by drawing
/// from a shared generator, so each quantity depends only on the seed and its own name: adding
/// batches does not change the gene phenotypes, and cell `i` renders the same whatever chunk or
/// thread renders it.
enum SeedMixer {
  /// Stream tags; their values are part of the simulator's reproducibility contract.
  enum Tag: UInt64 {
    case complex = 1
    case gene = 2
    case batch = 3
    case plate = 4
    case layout = 5
    case cell = 6
    case abundance = 7
    case preview = 8
    case cellLine = 9
    case wells = 10
    case well = 11
  }

  /// The SplitMix64 / MurmurHash3 finaliser: a bijective, well-mixing 64-bit hash.
  @inline(__always)
  static func fmix(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Combines a seed with one more word.
  @inline(__always)
  static func mix(_ seed: UInt64, _ word: UInt64) -> UInt64 {
    fmix(seed ^ fmix(word &+ 0x9E37_79B9_7F4A_7C15))
  }

  /// The generator of stream (`tag`, `index`) under `seed`.
  static func generator(_ seed: UInt64, _ tag: Tag, _ index: Int = 0) -> RandomGenerator {
    RandomGenerator(seed: mix(mix(seed, tag.rawValue), UInt64(truncatingIfNeeded: index)))
  }
}
