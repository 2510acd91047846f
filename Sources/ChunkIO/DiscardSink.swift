/// Counts and drops everything: for benchmarks and for measuring a stage on its own.
package final class DiscardSink: ChunkSink {
    package private(set) var bytes = 0
    package private(set) var chunks = 0
    package init() {}
    package func write(_ chunk: Chunk) throws {
        bytes += chunk.count
        chunks += 1
        chunk.recycle()
    }
    package func finish() throws {}
    package func abort(_ error: Error) {}
}
