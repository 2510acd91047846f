import Foundation

/// A bounded FIFO between threads. `put` blocks when full, `take` blocks when empty and returns
/// nil once the queue is closed and drained. `fail` wakes everyone with an error.
package final class BlockingQueue<Element>: @unchecked Sendable {
    private var items: [Element?]
    private var head = 0
    private var stored = 0
    private var closed = false
    private var failure: Error?
    private let condition = NSCondition()
    package let capacity: Int

    package init(capacity: Int) {
        precondition(capacity > 0, "a queue needs room for at least one element")
        self.capacity = capacity
        self.items = Array(repeating: nil, count: capacity)
    }

    package func put(_ element: Element) throws {
        condition.lock()
        defer { condition.unlock() }
        while stored == capacity && failure == nil { condition.wait() }
        if let failure { throw failure }
        if closed { throw PipelineMisuse(call: "put after close") }
        items[(head + stored) % capacity] = element
        stored += 1
        condition.broadcast()
    }

    package func take() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while stored == 0 && !closed && failure == nil { condition.wait() }
        if let failure { throw failure }
        if stored == 0 { return nil }
        let element = items[head]
        items[head] = nil
        head = (head + 1) % capacity
        stored -= 1
        condition.broadcast()
        return element
    }

    /// Removes and returns whatever is still queued, even after `fail`: a failed stage hands
    /// queued chunks back to their pools, or a producer waiting on its pool would wait forever.
    package func drain() -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        var drained: [Element] = []
        while stored > 0 {
            if let element = items[head] { drained.append(element) }
            items[head] = nil
            head = (head + 1) % capacity
            stored -= 1
        }
        condition.broadcast()
        return drained
    }

    package func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    package func fail(_ error: Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }
}
