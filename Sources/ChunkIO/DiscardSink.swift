/// Counts and drops everything: for benchmarks and for measuring a stage on its own.
public final class DiscardSink: ChunkSink {
    public private(set) var bytes = 0
    public private(set) var chunks = 0
    public init() {}
    public func write(_ chunk: Chunk) throws {
        bytes += chunk.count
        chunks += 1
        chunk.recycle()
    }
    public func finish() throws {}
    public func abort(_ error: Error) {}
}
