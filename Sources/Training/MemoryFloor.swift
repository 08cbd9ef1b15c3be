import Foundation

/// A lower bound on the memory a training configuration needs, checked before anything is
/// allocated, so that a mistyped size (`"batch_size": 100000000`) gets one line naming the fields
/// instead of an allocation failure hours of data loading later.
///
/// The bound counts what training cannot do without: each parameter's weight, gradient, two Adam
/// moments and EMA copy (20 bytes), and `activationCopies` full-resolution feature maps of the
/// first layer's width per image. The real need is higher; the check only refuses a
/// configuration that is certain not to fit.
public struct MemoryFloor: Sendable {
  /// Parameters of all networks.
  public var parameters: Double
  /// Floats in one full-resolution feature map of one image (channels × height × width).
  public var featureMapFloats: Double
  /// Images per step.
  public var batch: Double
  /// Full-resolution feature maps per image that the forward and backward passes keep.
  public var activationCopies: Double = 10

  public init(parameters: Double, featureMapFloats: Double, batch: Double) {
    self.parameters = parameters
    self.featureMapFloats = featureMapFloats
    self.batch = batch
  }

  /// Bytes the configuration needs at least.
  public var bytes: Double { parameters * 20 + batch * featureMapFloats * activationCopies * 4 }

  /// Why the configuration cannot train here, naming `fields`, when ``bytes`` exceeds `available`
  /// (this machine's memory); nil when it may fit.
  public func shortfall(fields: String, available: Double = Double(ProcessInfo.processInfo.physicalMemory)) -> String? {
    guard bytes > available else { return nil }
    let gib = 1024.0 * 1024 * 1024
    return String(format: "%@ need at least %.0f GiB of memory to train, more than this machine's %.0f GiB", fields, bytes / gib, available / gib)
  }
}
