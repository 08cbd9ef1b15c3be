import Foundation

/// One mini-batch read from a cell store.
public struct CellBatch<State: Sendable>: Sendable {
  /// The cell indices, in batch order.
  public let indices: [Int]
  /// The images, `[n, C, H, W]` floats (after the loader's transform, if any).
  public let images: [Float]
  /// Each cell's gene index.
  public let genes: [Int32]
  /// Each cell's batch index.
  public let batches: [Int32]
  /// The sampler's state right after drawing this batch: restoring it continues with the next one.
  public let samplerState: State
}

/// Serves mini-batches from a cell store, reading ahead on a background thread.
///
/// A prefetch thread draws index lists from the sampler, reads their images and queues at most
/// `prefetch` finished batches, so training rarely waits on the disk while memory stays bounded.
/// Each batch carries the sampler state after it was drawn, which is what a checkpoint should save.
///
/// ```swift
/// let sampler = try ClassBalancedSampler(store: store, batchSize: 16, seed: 1)
/// let loader = CellBatchLoader(store: store, sampler: sampler, prefetch: 4)
/// while let batch = try loader.next() { train(batch.images) }
/// ```
public final class CellBatchLoader<Sampler: CellSampler>: @unchecked Sendable {
  /// A transform applied to each batch's images on the prefetch thread (e.g. `uint16` scaling).
  public typealias Transform = @Sendable (_ images: inout [Float], _ count: Int) -> Void

  private let pipeline: Pipeline

  /// Starts reading batches of `sampler` from `store`.
  ///
  /// - Parameters:
  ///   - limit: the number of batches to serve (`nil`: until the sampler is exhausted).
  ///   - prefetch: how many finished batches may wait in the queue (at least 1).
  ///   - transform: applied to each batch's images before it is queued.
  public init(
    store: CellStore, sampler: Sampler, limit: Int? = nil, prefetch: Int = 4,
    transform: Transform? = nil
  ) {
    let pipeline = Pipeline(capacity: max(1, prefetch))
    self.pipeline = pipeline
    let thread = Thread {
      var sampler = sampler
      var served = 0
      while !pipeline.isStopped {
        if let limit, served >= limit { break }
        guard let indices = sampler.next() else { break }
        served += 1
        let item: Result<CellBatch<Sampler.State>, Error>
        do {
          var images = try store.images(at: indices)
          transform?(&images, indices.count)
          item = .success(
            CellBatch(
              indices: indices, images: images, genes: indices.map { store.geneOfCell[$0] },
              batches: indices.map { store.batchOfCell[$0] }, samplerState: sampler.state))
        } catch {
          item = .failure(error)
        }
        guard pipeline.push(item) else { break }
        if case .failure = item { break }
      }
      pipeline.finish()
    }
    thread.name = "grape.cell-batch-loader"
    thread.start()
  }

  /// The next batch, waiting for the prefetch thread if needed; `nil` when no batch is left.
  ///
  /// - Throws: the error that stopped the prefetch thread (e.g. an unreadable chunk).
  public func next() throws -> CellBatch<Sampler.State>? {
    try pipeline.pop()?.get()
  }

  /// Stops the prefetch thread; later calls to ``next()`` return what is queued, then `nil`.
  public func stop() {
    pipeline.stop()
  }

  deinit {
    pipeline.stop()
  }

  /// The bounded queue shared by the loader and its thread.
  private final class Pipeline: @unchecked Sendable {
    // Invariant: all fields are accessed with `condition` locked.
    private let condition = NSCondition()
    private var queue: [Result<CellBatch<Sampler.State>, Error>] = []
    private var stopped = false
    private var finished = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var isStopped: Bool {
      condition.lock()
      defer { condition.unlock() }
      return stopped
    }

    /// Queues `item`, waiting while the queue is full; false when the loader stopped.
    func push(_ item: Result<CellBatch<Sampler.State>, Error>) -> Bool {
      condition.lock()
      defer { condition.unlock() }
      while queue.count >= capacity && !stopped { condition.wait() }
      if stopped { return false }
      queue.append(item)
      condition.broadcast()
      return true
    }

    /// Takes the oldest item, waiting while the queue is empty and the thread still runs.
    func pop() -> Result<CellBatch<Sampler.State>, Error>? {
      condition.lock()
      defer { condition.unlock() }
      while queue.isEmpty && !finished && !stopped { condition.wait() }
      if queue.isEmpty { return nil }
      let item = queue.removeFirst()
      condition.broadcast()
      return item
    }

    func finish() {
      condition.lock()
      finished = true
      condition.broadcast()
      condition.unlock()
    }

    func stop() {
      condition.lock()
      stopped = true
      condition.broadcast()
      condition.unlock()
    }
  }
}

extension CellBatchLoader where Sampler == IndexListSampler {
  /// Starts reading the batches `indexLists` (cell indices) from `store`, in order.
  ///
  /// - Parameters:
  ///   - prefetch: how many finished batches may wait in the queue (at least 1).
  ///   - transform: applied to each batch's images before it is queued.
  public convenience init(
    store: CellStore, indexLists: [[Int]], prefetch: Int = 4, transform: Transform? = nil
  ) {
    self.init(
      store: store, sampler: IndexListSampler(indexLists), prefetch: prefetch, transform: transform)
  }
}
