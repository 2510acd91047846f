import Foundation

/// A fixed set of equally sized chunks. `take()` blocks while all are in use, which is the
/// back-pressure that keeps a fast producer from running ahead of a slow consumer.
package final class ChunkPool: @unchecked Sendable {
    package let chunkCapacity: Int
    package let size: Int
    private var free: [Chunk] = []
    private var created = 0
    private var failure: Error?
    private let condition = NSCondition()

    package init(size: Int, chunkCapacity: Int) {
        precondition(size > 0 && chunkCapacity > 0, "a pool needs at least one chunk of at least one byte")
        self.size = size
        self.chunkCapacity = chunkCapacity
    }

    /// Waits for a free chunk; throws the error passed to `fail(_:)` once the pipeline failed.
    package func take() throws -> Chunk {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let failure { throw failure }
            if let chunk = free.popLast() { return chunk }
            if created < size {
                created += 1
                let chunk = Chunk(capacity: chunkCapacity)
                chunk.pool = self
                return chunk
            }
            condition.wait()
        }
    }

    func release(_ chunk: Chunk) {
        condition.lock()
        free.append(chunk)
        condition.signal()
        condition.unlock()
    }

    /// Wakes every waiter with `error`, so no stage stays blocked after another one failed.
    package func fail(_ error: Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }
}
