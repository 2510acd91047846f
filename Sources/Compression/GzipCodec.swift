import ChunkIO
import CLibdeflate
import Foundation

/// The gzip stage of a backup or dump: chunks compressed in parallel, one gzip member each. A
/// concatenation of members is one valid gzip stream (RFC 1952), so `gunzip` reads the result
/// while compression scales with cores.
package typealias GzipCompressorSink = ParallelCompressorSink<GzipCodec>

extension ParallelCompressorSink where Codec == GzipCodec {
    /// - Parameters:
    ///   - level: libdeflate's, 1 (fastest) to 12 (smallest); 4 is already as small as `gzip -6`.
    ///   - threads: compressor threads, usually the number of cores.
    ///   - chunkCapacity: the largest input chunk expected (output buffers are sized from it).
    package convenience init(downstream: ChunkSink, level: Int = CompressionMethod.gzip.defaultLevel,
                             threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                             chunkCapacity: Int = 1 << 20) throws {
        try self.init(downstream: downstream, threads: threads, chunkCapacity: chunkCapacity) {
            try GzipCodec(level: level)
        }
    }
}

/// One libdeflate compressor (and a fastest one for hex-heavy chunks) producing a gzip member
/// per chunk, in `GzipMember`'s layout; the CRC-32 its trailer needs is the sink's checksum too.
package final class GzipCodec: ChunkCodec, @unchecked Sendable {
    package static let name = "gzip"
    private let compressor: OpaquePointer
    private let fast: OpaquePointer?

    /// - Parameter level: 1 (fastest) to 12 (smallest).
    package init(level: Int) throws {
        guard (1...12).contains(level) else {
            throw CompressionError(.invalidLevel, "compression level \(level) is out of range; use 1 (fastest) to 12 (smallest)")
        }
        guard let compressor = libdeflate_alloc_compressor(Int32(level)) else {
            throw Self.unavailable
        }
        // Hex-encoded BLOBs (random-looking bytes) gain next to nothing from deeper matching but
        // cost several times the CPU: chunks made mostly of them use the fastest matcher.
        var fast: OpaquePointer?
        if level > 1 {
            guard let fastest = libdeflate_alloc_compressor(1) else {
                libdeflate_free_compressor(compressor)
                throw Self.unavailable
            }
            fast = fastest
        }
        self.compressor = compressor
        self.fast = fast
    }

    deinit {
        libdeflate_free_compressor(compressor)
        if let fast { libdeflate_free_compressor(fast) }
    }

    private static var unavailable: CompressionError {
        CompressionError(.compressorUnavailable, "libdeflate could not allocate a compressor (out of memory?)")
    }

    package func outputBound(forInput inputCapacity: Int) -> Int {
        GzipMember.headerSize + libdeflate_deflate_compress_bound(compressor, inputCapacity) + GzipMember.trailerSize
    }

    package func compress(_ input: Chunk, into output: Chunk) throws -> (count: Int, crc32: UInt32?) {
        let mostlyHex = input.hexBytes * 2 > input.count
        let room = output.capacity - GzipMember.headerSize - GzipMember.trailerSize
        let size = room > 0 ? libdeflate_deflate_compress(mostlyHex ? (fast ?? compressor) : compressor, input.base, input.count,
                                                          output.base + GzipMember.headerSize, room) : 0
        // Even an empty input deflates to a few bytes, so 0 only means "no room".
        guard size > 0 else {
            throw CompressionError(.compressorUnavailable, "a chunk of \(input.count) bytes did not fit its gzip buffer; chunks must not exceed the compressor's chunk capacity")
        }
        let crc = UInt32(truncatingIfNeeded: libdeflate_crc32(0, input.base, input.count))
        let total = GzipMember.headerSize + size + GzipMember.trailerSize
        GzipMember.writeHeader(output.base, total: total)
        GzipMember.writeTrailer(output.base + GzipMember.headerSize + size, crc: crc, size: input.count)
        return (total, crc)
    }
}
