import ChunkIO
import CZlib

/// Streams gzip (one member or many, as the compressor writes) back to plain bytes.
/// zlib stops at the end of each member, so the decoder resets and continues while input
/// remains; each member's CRC-32 and length are checked by zlib. A stream that ends inside a
/// member is reported as truncated.
package final class GzipDecoder: ChunkSink {
    private let output: DecodedOutput
    private var stream = z_stream()
    private var initialized = false
    private var inMember = false
    package var bytesOut: Int { output.bytes }
    package private(set) var members = 0
    private let name: String

    /// - Parameter name: what the stream is (a file, an object key), for error messages.
    package init(downstream: ChunkSink, name: String, chunkCapacity: Int = 1 << 20, buffers: Int = 4) throws {
        self.name = name
        output = DecodedOutput(downstream: downstream, chunkCapacity: chunkCapacity, buffers: buffers)
        guard backstream_inflate_init_gzip(&stream) == Z_OK else {
            throw CompressionError(.corrupt, "zlib could not start a gzip decoder for \(name)")
        }
        initialized = true
    }

    deinit {
        if initialized { inflateEnd(&stream) }
    }

    package func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        try decode(chunk.bytes)
    }

    /// Decodes bytes that the caller keeps ownership of.
    package func decode(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(bytes.count)
        while stream.avail_in > 0 {
            if !inMember {
                inMember = true
            }
            let out = try output.chunk()
            stream.next_out = (out.base + out.count).assumingMemoryBound(to: Bytef.self)
            let room = out.capacity - out.count
            stream.avail_out = uInt(room)
            let rc = inflate(&stream, Z_NO_FLUSH)
            out.count += room - Int(stream.avail_out)
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                try output.flushIfFull()
                if rc == Z_BUF_ERROR && stream.avail_out > 0 { return }
            case Z_STREAM_END:
                members += 1
                inMember = false
                inflateReset(&stream)
                try output.flushIfFull()
            default:
                let detail = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw CompressionError(.corrupt, "\(name) is not valid gzip (\(detail)); the backup is damaged — use another one")
            }
        }
    }

    package func finish() throws {
        if inMember || members == 0 {
            throw CompressionError(.truncated, "\(name) ends in the middle of its gzip data; the file or object was cut short")
        }
        try output.finish()
    }

    package func abort(_ error: Error) { output.abort(error) }
}
