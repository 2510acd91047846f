import ChunkIO
import CLibdeflate

/// Passes chunks through unchanged while computing the CRC-32 of everything that went by,
/// so a restore can check the SQL content against the checksum recorded at backup time.
package final class CRC32Sink: ChunkSink {
    private let downstream: ChunkSink
    private var crc: UInt32 = 0
    package private(set) var bytes = 0

    package init(downstream: ChunkSink) {
        self.downstream = downstream
    }

    package var value: UInt32 { crc }

    package func write(_ chunk: Chunk) throws {
        if let base = chunk.bytes.baseAddress, chunk.count > 0 {
            // libdeflate's CRC-32 (same polynomial as gzip's) uses carry-less multiply: ~10× zlib's.
            crc = libdeflate_crc32(crc, base, chunk.count)
            bytes += chunk.count
        }
        try downstream.write(chunk)
    }

    package func finish() throws { try downstream.finish() }
    package func abort(_ error: Error) { downstream.abort(error) }
}
