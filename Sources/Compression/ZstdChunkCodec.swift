import ChunkIO
import CZstd

/// One chunk → one zstd frame carrying its content size and checksum, so `zstd -d` reads the
/// concatenation as one stream and a damaged frame is caught where it is.
///
/// The context is made once per worker and reused for every chunk (it keeps its tables);
/// the frame's window shrinks to the chunk it holds, so each context stays a few MiB.
package final class ZstdChunkCodec: ChunkCodec, @unchecked Sendable {
    package static let name = "zstd"
    private let context: OpaquePointer

    package init(level: Int) throws {
        let level = try CompressionMethod.zstd.checkedLevel(level)
        guard let context = ZSTD_createCCtx() else {
            throw CompressionError(.compressorUnavailable, "zstd could not allocate a compressor (out of memory?)")
        }
        self.context = context
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level))
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
    }

    deinit { ZSTD_freeCCtx(context) }

    package func outputBound(forInput inputCapacity: Int) -> Int { ZSTD_compressBound(inputCapacity) }

    package func compress(_ input: Chunk, into output: Chunk) throws -> (count: Int, crc32: UInt32?) {
        let size = ZSTD_compress2(context, output.base, output.capacity, input.base, input.count)
        if ZSTD_isError(size) != 0 {
            let detail = String(cString: ZSTD_getErrorName(size))
            throw CompressionError(.compressorUnavailable, "zstd could not compress a chunk of \(input.count) bytes (\(detail))")
        }
        return (size, nil)
    }
}
