/// A fixed-capacity byte buffer that moves between pipeline stages.
///
/// Ownership passes with the chunk: exactly one stage touches it at a time, which is why it is
/// `@unchecked Sendable`. Buffers come from a `ChunkPool` and go back to it, so the number of
/// buffers alive — and with it peak memory — is fixed up front.
package final class Chunk: @unchecked Sendable {
    package let capacity: Int
    package let base: UnsafeMutableRawPointer
    package var count: Int = 0
    /// Free-form tag a stage may use (the compressor stores the CRC-32 of the uncompressed bytes).
    package var checksum: UInt32 = 0
    /// Bytes of uncompressed input this chunk stands for (equal to `count` for plain text).
    package var sourceCount: Int = 0
    /// Bytes the producer knows are hex-encoded binary data: the compressor spends less effort
    /// on chunks made mostly of them, where matching finds almost nothing to gain.
    package var hexBytes: Int = 0
    weak var pool: ChunkPool?

    package init(capacity: Int) {
        self.capacity = capacity
        self.base = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 64)
    }

    deinit { base.deallocate() }

    @inlinable package var remaining: Int { capacity - count }
    @inlinable package var isFull: Bool { count >= capacity }
    @inlinable package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Appends as many bytes as fit; returns how many were copied.
    @inlinable @discardableResult
    package func append(_ source: UnsafeRawBufferPointer) -> Int {
        let n = min(source.count, remaining)
        if n > 0, let src = source.baseAddress {
            (base + count).copyMemory(from: src, byteCount: n)
            count += n
        }
        return n
    }

    /// Returns the buffer to its pool (if it has one) for reuse.
    package func recycle() {
        count = 0
        checksum = 0
        sourceCount = 0
        hexBytes = 0
        pool?.release(self)
    }
}
