/// A fixed-capacity byte buffer that moves between pipeline stages.
///
/// Ownership passes with the chunk: exactly one stage touches it at a time, which is why it is
/// `@unchecked Sendable`. Buffers come from a `ChunkPool` and go back to it, so the number of
/// buffers alive — and with it peak memory — is fixed up front.
public final class Chunk: @unchecked Sendable {
    public let capacity: Int
    public let base: UnsafeMutableRawPointer
    public var count: Int = 0
    /// Free-form tag a stage may use (the compressor stores the CRC-32 of the uncompressed bytes).
    public var checksum: UInt32 = 0
    /// Bytes of uncompressed input this chunk stands for (equal to `count` for plain text).
    public var sourceCount: Int = 0
    /// Bytes the producer knows are hex-encoded binary data: the compressor spends less effort
    /// on chunks made mostly of them, where matching finds almost nothing to gain.
    public var hexBytes: Int = 0
    weak var pool: ChunkPool?

    public init(capacity: Int) {
        self.capacity = capacity
        self.base = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 64)
    }

    deinit { base.deallocate() }

    @inlinable public var remaining: Int { capacity - count }
    @inlinable public var isFull: Bool { count >= capacity }
    @inlinable public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Appends as many bytes as fit; returns how many were copied.
    @inlinable @discardableResult
    public func append(_ source: UnsafeRawBufferPointer) -> Int {
        let n = min(source.count, remaining)
        if n > 0, let src = source.baseAddress {
            (base + count).copyMemory(from: src, byteCount: n)
            count += n
        }
        return n
    }

    /// Returns the buffer to its pool (if it has one) for reuse.
    public func recycle() {
        count = 0
        checksum = 0
        sourceCount = 0
        hexBytes = 0
        pool?.release(self)
    }
}
