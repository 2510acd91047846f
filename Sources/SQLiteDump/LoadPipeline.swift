import ChunkIO
import Foundation

/// The hand-over between the loader's parsing thread (the caller's) and its SQLite thread: a
/// fixed pool of `LoadBatch`es going round through two bounded queues, so the parser waits
/// when SQLite is behind and memory stays at `batches × capacity`.
///
/// A failure on the SQLite thread fails both queues, which wakes the parser with that error;
/// `stop` does the same from the parsing side. The thread's end is a state, so `finish` and
/// `stop` may each be called in any order and more than once.
final class LoadPipeline: @unchecked Sendable {
    let executor: LoadExecutor
    private let full: BlockingQueue<LoadBatch>
    private let free: BlockingQueue<LoadBatch>
    private let thread = WorkerThreads()
    private let state = NSLock()
    private var started = false
    private var done = false
    private var failure: Error?

    init(executor: LoadExecutor, batches: Int = 4, batchCapacity: Int = 256 << 10) {
        self.executor = executor
        full = BlockingQueue(capacity: batches)
        free = BlockingQueue(capacity: batches)
        for _ in 0..<batches { try? free.put(LoadBatch(capacity: batchCapacity)) }
    }

    /// The SQLite thread's error, once it has one.
    var error: Error? { state.withLock { failure } }

    /// An empty batch; waits while every batch is queued or being run.
    func emptyBatch() throws -> LoadBatch {
        guard let batch = try free.take() else { throw PipelineMisuse(call: "emptyBatch after stop") }
        return batch
    }

    /// Queues a filled batch for the SQLite thread, starting the thread on the first one.
    func submit(_ batch: LoadBatch) throws {
        startIfNeeded()
        try full.put(batch)
    }

    /// Waits until every queued batch has run; throws the SQLite thread's error if it had one.
    func finish() throws {
        full.close()
        join()
        if let failure = error { throw failure }
    }

    /// Ends the SQLite thread without running what is still queued, interrupting the statement
    /// it is in (a CREATE INDEX can take seconds).
    func stop(_ error: Error) {
        full.fail(error)
        free.fail(error)
        if state.withLock({ started && !done }) { executor.connection.interrupt() }
        join()
    }

    private func startIfNeeded() {
        let start = state.withLock { () -> Bool in
            defer { started = true }
            return !started
        }
        guard start else { return }
        thread.start("bs-load") { [self] _ in run() }
    }

    private func run() {
        do {
            while let batch = try full.take() {
                try executor.run(batch)
                batch.reset()
                try free.put(batch)
            }
        } catch {
            state.withLock { if failure == nil { failure = error } }
            full.fail(error)
            free.fail(error)
        }
        state.withLock { done = true }
    }

    private func join() { thread.join() }
}
