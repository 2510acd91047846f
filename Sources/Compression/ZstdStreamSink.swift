import ChunkIO
import CLibdeflate
import CZstd

/// zstd as one frame written by libzstd's own worker threads, with long-distance matching over
/// a 2 MiB window (`zstd -3`'s own). Independent frames per chunk (the gzip design) lose the
/// data's long-range repetition: on the 200 MB portal database they came out 16% larger than
/// `sqlite3 .dump | zstd -3 -T2`, while this is 2% smaller at level 3 and 3% smaller at level 2
/// (the default, for 45% of level 3's CPU: long-distance matching finds what level 3's deeper
/// search would).
///
/// Memory is fixed by the parameters, not the input: jobs of 512 KiB, match tables sized as for
/// a 512 KiB input (so high levels do not grow them to tens of MiB), a 2 MiB window; ~7 MiB at
/// level 3 with two workers. A 4 MiB window was 6% smaller still but cost the 2 MiB that put a
/// backup to S3 over 64 MiB of RSS.
package final class ZstdStreamSink: CompressingSink {
    static let jobSize = 512 << 10
    static let windowLog: Int32 = 21

    private let downstream: ChunkSink
    private let context: OpaquePointer
    private let pool: ChunkPool
    private var output: Chunk?
    private var crc: UInt32 = 0
    private var ended = false
    package private(set) var bytesOut = 0
    package var contentCRC32: UInt32 { crc }

    /// - Parameter threads: libzstd worker threads (at least one, so compression overlaps the
    ///   caller's work).
    package init(downstream: ChunkSink, level: Int, threads: Int, chunkCapacity: Int = 256 << 10) throws {
        let level = try CompressionMethod.zstd.checkedLevel(level)
        guard let context = ZSTD_createCCtx() else {
            throw CompressionError(.compressorUnavailable, "zstd could not allocate a compressor (out of memory?)")
        }
        let tables = ZSTD_getCParams(Int32(level), UInt64(Self.jobSize), 0)
        let settings: [(ZSTD_cParameter, Int32)] = [
            (ZSTD_c_compressionLevel, Int32(level)),
            (ZSTD_c_hashLog, Int32(tables.hashLog)),
            (ZSTD_c_chainLog, Int32(tables.chainLog)),
            (ZSTD_c_searchLog, Int32(tables.searchLog)),
            (ZSTD_c_windowLog, Self.windowLog),
            (ZSTD_c_enableLongDistanceMatching, 1),
            (ZSTD_c_checksumFlag, 1),
            (ZSTD_c_nbWorkers, Int32(max(1, threads))),
            (ZSTD_c_jobSize, Int32(Self.jobSize)),
        ]
        for (parameter, value) in settings {
            let result = ZSTD_CCtx_setParameter(context, parameter, value)
            // A libzstd built without threads refuses workers: it then compresses on this thread.
            if ZSTD_isError(result) != 0 && parameter != ZSTD_c_nbWorkers && parameter != ZSTD_c_jobSize {
                ZSTD_freeCCtx(context)
                throw CompressionError(.compressorUnavailable, "zstd refused a compression setting (\(String(cString: ZSTD_getErrorName(result))))")
            }
        }
        self.context = context
        self.downstream = downstream
        pool = ChunkPool(size: 3, chunkCapacity: max(64 << 10, chunkCapacity))
    }

    deinit { ZSTD_freeCCtx(context) }

    package func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        guard chunk.count > 0, let base = chunk.bytes.baseAddress else { return }
        crc = libdeflate_crc32(crc, base, chunk.count)
        var input = ZSTD_inBuffer(src: base, size: chunk.count, pos: 0)
        while input.pos < input.size {
            _ = try compress(&input, ZSTD_e_continue)
        }
    }

    package func finish() throws {
        guard !ended else { throw PipelineMisuse(call: "finish") }
        ended = true
        do {
            var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
            while try compress(&input, ZSTD_e_end) != 0 {}
            if let last = output, last.count > 0 {
                output = nil
                try send(last)
            }
            try downstream.finish()
        } catch {
            // Whatever failed, the downstream is aborted here, once; a later abort does nothing.
            output?.recycle()
            output = nil
            downstream.abort(error)
            throw error
        }
    }

    package func abort(_ error: Error) {
        output?.recycle()
        output = nil
        pool.fail(error)
        guard !ended else { return }
        ended = true
        // Drops the frame in progress and joins libzstd's workers.
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        downstream.abort(error)
    }

    /// One compression call into the current output chunk; returns libzstd's "bytes left to
    /// flush" (0 once an `end` is complete).
    private func compress(_ input: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective) throws -> Int {
        let chunk = try output ?? pool.take()
        output = chunk
        var out = ZSTD_outBuffer(dst: chunk.base + chunk.count, size: chunk.capacity - chunk.count, pos: 0)
        let left = ZSTD_compressStream2(context, &out, &input, mode)
        if ZSTD_isError(left) != 0 {
            throw StageError(stage: "compressing", underlying: CompressionError(
                .compressorUnavailable, "zstd could not compress (\(String(cString: ZSTD_getErrorName(left))))"))
        }
        chunk.count += out.pos
        if chunk.isFull {
            output = nil
            try send(chunk)
        }
        return left
    }

    private func send(_ chunk: Chunk) throws {
        chunk.sourceCount = chunk.count
        bytesOut += chunk.count
        try downstream.write(chunk)
    }
}
