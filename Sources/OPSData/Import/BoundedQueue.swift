import Foundation

/// A first-in first-out queue of bounded length between one producer and one consumer thread.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
  // Invariant: all fields are accessed with `condition` locked.
  private let condition = NSCondition()
  private var items: [Element] = []
  private var closed = false
  private var cancelled = false
  private let capacity: Int

  init(capacity: Int) { self.capacity = max(1, capacity) }

  /// Appends `item`, waiting while the queue is full; false when the consumer cancelled.
  func push(_ item: Element) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while items.count >= capacity && !cancelled { condition.wait() }
    if cancelled { return false }
    items.append(item)
    condition.broadcast()
    return true
  }

  /// Removes the oldest item, waiting while empty; `nil` once closed and drained, or cancelled.
  func pop() -> Element? {
    condition.lock()
    defer { condition.unlock() }
    while items.isEmpty && !closed && !cancelled { condition.wait() }
    if cancelled || items.isEmpty { return nil }
    let item = items.removeFirst()
    condition.broadcast()
    return item
  }

  /// Marks the end of the producer's items.
  func close() {
    condition.lock()
    closed = true
    condition.broadcast()
    condition.unlock()
  }

  /// Tells the producer to stop (its next push returns false).
  func cancel() {
    condition.lock()
    cancelled = true
    condition.broadcast()
    condition.unlock()
  }

  /// Whether the consumer cancelled.
  var isCancelled: Bool {
    condition.lock()
    defer { condition.unlock() }
    return cancelled
  }
}

/// A value shared between threads behind a lock.
final class Locked<Value>: @unchecked Sendable {
  // Invariant: `value` is accessed only inside `withLock`.
  private var value: Value
  private let lock = NSLock()

  init(_ value: Value) { self.value = value }

  /// Runs `body` with exclusive access to the value.
  func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
}
