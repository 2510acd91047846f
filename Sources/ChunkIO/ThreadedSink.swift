import Foundation

/// Runs a downstream sink on its own thread behind a bounded queue, so the producer keeps
/// rendering while a write (pipe, disk, network) blocks. The queue depth bounds memory.
///
/// `finish` and `abort` may be called in any order and more than once (a caller aborts after a
/// failed finish): the thread's end is a state, not a one-shot signal, so neither waits for
/// something the other already consumed, and the downstream is finished or aborted once.
package final class ThreadedSink: ChunkSink, @unchecked Sendable {
    private let downstream: ChunkSink
    private let queue: BlockingQueue<Chunk>
    private let state = NSLock()
    private let thread = WorkerThreads()
    private var failure: Error?
    private var ended = StageEnd.open

    package init(downstream: ChunkSink, depth: Int = 4) {
        self.downstream = downstream
        self.queue = BlockingQueue(capacity: depth)
        thread.start("sink-writer") { [self] _ in run() }
    }

    private func run() {
        do {
            while let chunk = try queue.take() {
                try downstream.write(chunk)
            }
        } catch {
            state.withLock { if failure == nil { failure = error } }
            queue.fail(error)
            // Also the path an abort takes (its fail ends the take above): what is still queued
            // goes back to the producer's pool.
            queue.drain().forEach { $0.recycle() }
        }
    }

    package func write(_ chunk: Chunk) throws {
        do {
            try queue.put(chunk)
        } catch {
            chunk.recycle()
            throw error
        }
    }

    package func finish() throws {
        guard state.withLock({ ended.claim(.finishing) }) else {
            throw state.withLock { failure } ?? PipelineMisuse(call: "finish")
        }
        queue.close()
        thread.join()
        if let failure = state.withLock({ failure }) {
            state.withLock { ended = .aborted }
            downstream.abort(failure)
            throw failure
        }
        do {
            try downstream.finish()
            state.withLock { ended = .finished }
        } catch {
            state.withLock {
                if failure == nil { failure = error }
                ended = .aborted
            }
            downstream.abort(error)
            throw error
        }
    }

    package func abort(_ error: Error) {
        queue.fail(error)
        thread.join()
        // After finish began, finish owns the downstream and has finished or aborted it.
        guard state.withLock({ ended.claim(.aborted) }) else { return }
        downstream.abort(error)
    }
}

/// How a stage with its own threads ended: each end is claimed once, so a downstream is never
/// finished after an abort, or aborted twice.
package enum StageEnd: Sendable {
    case open, finishing, finished, aborted

    /// Moves from `.open` to `next`; false when the stage had already started ending.
    package mutating func claim(_ next: StageEnd) -> Bool {
        guard self == .open else { return false }
        self = next
        return true
    }
}

/// A call on a stage that had already ended (a second finish): an error, never a crash.
package struct PipelineMisuse: Error, CustomStringConvertible, Sendable {
    package let call: String
    package init(call: String) { self.call = call }
    package var description: String { "\(call) was called on a stage that had already ended" }
}
