import ChunkIO
import CLibdeflate

/// Passes chunks through unchanged while computing the CRC-32 of everything that went by,
/// so a restore can check the SQL content against the checksum recorded at backup time.
public final class CRC32Sink: ChunkSink {
    private let downstream: ChunkSink
    private var crc: UInt32 = 0
    public private(set) var bytes = 0

    public init(downstream: ChunkSink) {
        self.downstream = downstream
    }

    public var value: UInt32 { crc }

    public func write(_ chunk: Chunk) throws {
        if let base = chunk.bytes.baseAddress, chunk.count > 0 {
            // libdeflate's CRC-32 (same polynomial as gzip's) uses carry-less multiply: ~10× zlib's.
            crc = libdeflate_crc32(crc, base, chunk.count)
            bytes += chunk.count
        }
        try downstream.write(chunk)
    }

    public func finish() throws { try downstream.finish() }
    public func abort(_ error: Error) { downstream.abort(error) }
}
