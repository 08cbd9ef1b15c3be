/// A seeded pseudo-random generator whose sequence is fixed by this file alone.
///
/// xoshiro256** (Blackman and Vigna, 2018) seeded through SplitMix64. Uniform and normal
/// variates are derived here from raw bits (never through the standard library's
/// `random(in:using:)`, whose algorithm may change between Swift versions), so golden values stay
/// valid. Pass generators `inout`; library code never uses the system generator.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
  /// The four words of state.
  public var state: (UInt64, UInt64, UInt64, UInt64)

  /// A generator whose whole sequence is determined by `seed`.
  public init(seed: UInt64) {
    var sm = seed
    func splitmix() -> UInt64 {
      sm &+= 0x9E37_79B9_7F4A_7C15
      var z = sm
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitmix(), splitmix(), splitmix(), splitmix())
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = rotl(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotl(state.3, 45)
    return result
  }

  @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
    (x << k) | (x >> (64 - k))
  }

  /// A uniform float in [0, 1) with 24 random bits.
  public mutating func uniformFloat() -> Float {
    Float(next() >> 40) * (1.0 / 16_777_216.0)
  }

  /// A uniform double in [0, 1) with 53 random bits.
  public mutating func uniform() -> Double {
    Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
  }

  /// A uniform double in [low, high).
  public mutating func uniform(_ low: Double, _ high: Double) -> Double {
    low + (high - low) * uniform()
  }

  /// A uniform integer in 0..<n (Lemire's multiply-shift with rejection; unbiased).
  public mutating func int(below n: Int) -> Int {
    precondition(n > 0, "RandomGenerator.int(below:): n must be positive, got \(n)")
    let bound = UInt64(n)
    var m = next().multipliedFullWidth(by: bound)
    if m.low < bound {
      let threshold = (0 &- bound) % bound
      while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
    }
    return Int(m.high)
  }

  /// A standard normal variate (Box–Muller; one of the pair is used).
  public mutating func normal() -> Double {
    var u1 = uniform()
    while u1 <= 0 { u1 = uniform() }
    let u2 = uniform()
    return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
  }

  /// A normal variate with the given mean and standard deviation.
  public mutating func normal(mean: Double, std: Double) -> Double { mean + std * normal() }

  /// A Poisson variate (Knuth's method for small means, a normal approximation above 64).
  public mutating func poisson(_ lambda: Double) -> Int {
    if lambda <= 0 { return 0 }
    if lambda > 64 { return max(0, Int((lambda + lambda.squareRoot() * normal()).rounded())) }
    let l = _exp(-lambda)
    var k = 0
    var p = 1.0
    repeat {
      k += 1
      p *= uniform()
    } while p > l
    return k - 1
  }

  /// Shuffles `array` in place (Fisher–Yates with this generator).
  public mutating func shuffle<T>(_ array: inout [T]) {
    guard array.count > 1 else { return }
    for i in stride(from: array.count - 1, to: 0, by: -1) {
      let j = int(below: i + 1)
      if i != j { array.swapAt(i, j) }
    }
  }

  /// A new generator derived from this one's stream (for parallel or per-restart streams).
  public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }

  // MARK: Codable and Equatable (tuples are neither)

  enum CodingKeys: String, CodingKey { case s }
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let words = try c.decode([String].self, forKey: .s).compactMap { UInt64($0) }
    guard words.count == 4 else {
      throw DecodingError.dataCorruptedError(
        forKey: .s, in: c, debugDescription: "random state needs four 64-bit words")
    }
    state = (words[0], words[1], words[2], words[3])
  }
  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    // Strings keep all 64 bits through JSON readers that parse numbers as doubles.
    try c.encode([state.0, state.1, state.2, state.3].map { String($0) }, forKey: .s)
  }
  public static func == (a: RandomGenerator, b: RandomGenerator) -> Bool {
    a.state.0 == b.state.0 && a.state.1 == b.state.1 && a.state.2 == b.state.2
      && a.state.3 == b.state.3
  }
}

#if canImport(Glibc)
  import Glibc
  @inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
  @inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
  @inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
  import Darwin
  @inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
  @inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
  @inline(__always) func _exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
