import Foundation

/// The largest buffer a reader allocates for what a file's header claims: half of this machine's
/// memory. A damaged or hostile file can claim any size (an HDF5 dataset of 2⁶² elements, a TIFF
/// tile of 64 GB); the readers check the claim against this before allocating, so the answer is
/// an error naming the file instead of an allocation failure.
enum AllocationLimit {
  static let bytes = Double(ProcessInfo.processInfo.physicalMemory) / 2

  /// Whether `count` elements of `size` bytes each (counted without overflow) fit.
  static func fits(count: Double, size: Int) -> Bool { count >= 0 && count * Double(size) <= bytes }

  /// The product of `shape` without integer overflow.
  static func elements(_ shape: [Int]) -> Double { shape.reduce(1.0) { $0 * Double($1) } }

  /// Words for an error: "X GiB".
  static func gibibytes(_ count: Double, size: Int) -> String {
    String(format: "%.0f GiB", count * Double(size) / 1_073_741_824)
  }
}
