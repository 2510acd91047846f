import ChunkIO

/// The output half of a streaming decoder: pooled chunks filled in place by the C library and
/// handed downstream when full, so memory stays at `buffers` chunks whatever the stream.
final class DecodedOutput {
    private let downstream: ChunkSink
    private let pool: ChunkPool
    private var current: Chunk?
    /// Decoded bytes handed downstream so far.
    private(set) var bytes = 0

    init(downstream: ChunkSink, chunkCapacity: Int, buffers: Int) {
        self.downstream = downstream
        pool = ChunkPool(size: buffers, chunkCapacity: chunkCapacity)
    }

    /// The chunk being filled (taken from the pool when there is none).
    func chunk() throws -> Chunk {
        if let current { return current }
        let chunk = try pool.take()
        current = chunk
        return chunk
    }

    func flushIfFull() throws {
        if let current, current.count == current.capacity { try flush() }
    }

    func flush() throws {
        guard let out = current, out.count > 0 else { return }
        current = nil
        bytes += out.count
        out.sourceCount = out.count
        try downstream.write(out)
    }

    func finish() throws {
        try flush()
        try downstream.finish()
    }

    func abort(_ error: Error) {
        current?.recycle()
        current = nil
        pool.fail(error)
        downstream.abort(error)
    }
}
