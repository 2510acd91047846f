import ChunkIO
import CZstd

/// Streams zstd (one frame or many concatenated, as the compressor writes) back to plain bytes.
/// `ZSTD_decompressStream` moves from one frame to the next by itself and checks each frame's
/// content checksum when it has one; a stream that ends inside a frame is reported as truncated.
package final class ZstdDecoder: ChunkSink {
    /// Frames needing a larger window are refused, so the 64 MiB bound holds for any object:
    /// 8 MiB is what `zstd -19` uses, and Backstream's own frame has a 2 MiB window.
    package static let windowLogMax: Int32 = 23

    private let output: DecodedOutput
    private let context: OpaquePointer
    private var inFrame = false
    package var bytesOut: Int { output.bytes }
    package private(set) var frames = 0
    private let name: String

    /// - Parameter name: what the stream is (a file, an object key), for error messages.
    package init(downstream: ChunkSink, name: String, chunkCapacity: Int = 1 << 20, buffers: Int = 4) throws {
        guard let context = ZSTD_createDCtx() else {
            throw CompressionError(.compressorUnavailable, "zstd could not allocate a decoder for \(name) (out of memory?)")
        }
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Self.windowLogMax)
        self.context = context
        self.name = name
        output = DecodedOutput(downstream: downstream, chunkCapacity: chunkCapacity, buffers: buffers)
    }

    deinit { ZSTD_freeDCtx(context) }

    package func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        try decode(chunk.bytes)
    }

    /// Decodes bytes that the caller keeps ownership of.
    package func decode(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var input = ZSTD_inBuffer(src: base, size: bytes.count, pos: 0)
        // Loop until the input is used and the decoder holds no more output for a full buffer.
        while true {
            let out = try output.chunk()
            let consumedBefore = input.pos
            var buffer = ZSTD_outBuffer(dst: out.base + out.count, size: out.capacity - out.count, pos: 0)
            let rc = ZSTD_decompressStream(context, &buffer, &input)
            out.count += buffer.pos
            if ZSTD_isError(rc) != 0 {
                if ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge {
                    throw CompressionError(.corrupt, "\(name) needs a zstd window larger than \(1 << (Self.windowLogMax - 20)) MiB (written with --long or --ultra); recompress it with zstd -19 or lower, without --long")
                }
                let detail = String(cString: ZSTD_getErrorName(rc))
                throw CompressionError(.corrupt, "\(name) is not valid zstd (\(detail)); the backup is damaged — use another one")
            }
            if rc == 0 {
                // Counted once: a frame may end in a call that consumed its last bytes.
                if inFrame || input.pos > consumedBefore { frames += 1 }
                inFrame = false
            } else if input.pos > consumedBefore || buffer.pos > 0 {
                // A call that moved nothing (the loop's extra call after a full output buffer, at
                // a frame boundary) answers with the next frame's header size: not inside a frame.
                inFrame = true
            }
            try output.flushIfFull()
            if input.pos == input.size && buffer.pos < buffer.size { return }
        }
    }

    package func finish() throws {
        if inFrame || frames == 0 {
            throw CompressionError(.truncated, "\(name) ends in the middle of its zstd data; the file or object was cut short")
        }
        try output.finish()
    }

    package func abort(_ error: Error) { output.abort(error) }
}
