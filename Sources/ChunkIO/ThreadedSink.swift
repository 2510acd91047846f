import Foundation

/// Runs a downstream sink on its own thread behind a bounded queue, so the producer keeps
/// rendering while a write (pipe, disk, network) blocks. The queue depth bounds memory.
public final class ThreadedSink: ChunkSink, @unchecked Sendable {
    private let downstream: ChunkSink
    private let queue: BlockingQueue<Chunk>
    private let done = DispatchSemaphore(value: 0)
    private var failure: Error?
    private let lock = NSLock()

    public init(downstream: ChunkSink, depth: Int = 4) {
        self.downstream = downstream
        self.queue = BlockingQueue(capacity: depth)
        let thread = Thread { [self] in self.run() }
        thread.name = "backstream-sink"
        thread.start()
    }

    private func run() {
        do {
            while let chunk = try queue.take() {
                try downstream.write(chunk)
            }
        } catch {
            lock.withLock { if failure == nil { failure = error } }
            queue.fail(error)
            // Also the path an abort takes (its fail ends the take above): what is still queued
            // goes back to the producer's pool.
            queue.drain().forEach { $0.recycle() }
        }
        done.signal()
    }

    public func write(_ chunk: Chunk) throws {
        do {
            try queue.put(chunk)
        } catch {
            chunk.recycle()
            throw error
        }
    }

    public func finish() throws {
        queue.close()
        done.wait()
        if let failure = lock.withLock({ failure }) {
            downstream.abort(failure)
            throw failure
        }
        try downstream.finish()
    }

    public func abort(_ error: Error) {
        queue.fail(error)
        done.wait()
        downstream.abort(error)
    }
}
