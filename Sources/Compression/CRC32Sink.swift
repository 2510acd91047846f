import ChunkIO
import CZlib

/// Passes chunks through unchanged while computing the CRC-32 of everything that went by,
/// so a restore can check the SQL content against the checksum recorded at backup time.
public final class CRC32Sink: ChunkSink {
    private let downstream: ChunkSink
    private var crc: UInt = 0
    public private(set) var bytes = 0

    public init(downstream: ChunkSink) {
        self.downstream = downstream
    }

    public var value: UInt32 { UInt32(truncatingIfNeeded: crc) }

    public func write(_ chunk: Chunk) throws {
        if let base = chunk.bytes.baseAddress, chunk.count > 0 {
            crc = crc32(crc, base.assumingMemoryBound(to: Bytef.self), uInt(chunk.count))
            bytes += chunk.count
        }
        try downstream.write(chunk)
    }

    public func finish() throws { try downstream.finish() }
    public func abort(_ error: Error) { downstream.abort(error) }
}
