import Foundation

/// Mini-batches made of several consecutive draws of another sampler, one after another.
///
/// Over a plate-consistent sampler, each mini-batch is `groups`
/// plate-consistent groups, taken from the next `groups` plates of the inner sampler's round
/// (a round visits every plate once, so the plates of a mini-batch differ except where it
/// spans two rounds). Its state is the inner sampler's, which a checkpoint takes between
/// mini-batches, so a resumed run draws the same batches.
public final class GroupedSampler: TrainingSampler {
  /// The sampler each group is drawn from.
  public let inner: TrainingSampler
  /// Draws per mini-batch.
  public let groups: Int

  /// Mini-batches of `groups` draws of `inner`.
  public init(_ inner: TrainingSampler, groups: Int) {
    precondition(groups >= 1, "GroupedSampler: groups must be at least 1, got \(groups)")
    self.inner = inner
    self.groups = groups
  }

  public func next() -> [Int] { (0..<groups).flatMap { _ in inner.next() } }

  public func state() throws -> Data { try inner.state() }

  public func restore(_ data: Data) throws { try inner.restore(data) }
}
