import ChunkIO

/// Feeds a byte buffer to a sink in pool chunks, as the SQL writer would: the copy into each
/// chunk is part of the measured work, the pool's fixed size gives back-pressure.
public struct ChunkFeeder {
    public let pool: ChunkPool

    public init(chunkCount: Int = 16, chunkCapacity: Int = 1 << 20) {
        pool = ChunkPool(size: chunkCount, chunkCapacity: chunkCapacity)
    }

    /// Writes all of `bytes` to `sink` and finishes it; aborts the sink if anything fails.
    public func feed(_ bytes: [UInt8], to sink: ChunkSink) throws {
        do {
            try write(bytes, to: sink)
            try sink.finish()
        } catch {
            sink.abort(error)
            throw error
        }
    }

    private func write(_ bytes: [UInt8], to sink: ChunkSink) throws {
        try bytes.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let chunk = try pool.take()
                let end = min(offset + chunk.capacity, all.count)
                chunk.append(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
                chunk.sourceCount = chunk.count
                offset = end
                try sink.write(chunk)
            }
        }
    }
}
