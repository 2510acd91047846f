import ChunkIO
import CLibdeflate
import CZlib

/// Streams gzip (one member or many) back to plain bytes, checking each member's CRC-32 and
/// length. A stream that ends inside a member is reported as truncated.
///
/// Backstream's own members declare their length (`GzipMember`): they are gathered whole and
/// decoded in one libdeflate call, about twice as fast as zlib, which is most of a restore's
/// parsing thread. Any other member (gzip's, pigz's, a single 300 MB one) streams through zlib.
package final class GzipDecoder: ChunkSink {
    /// The longest member gathered whole; Backstream writes members of at most ~256 KiB.
    static let stagingCapacity = 512 << 10

    private let output: DecodedOutput
    private var stream = z_stream()
    private var initialized = false
    private let decompressor: OpaquePointer
    private let staged: UnsafeMutableRawPointer
    private var stagedCount = 0
    /// The declared length of the member being gathered; 0 while its header is incomplete.
    private var stagedTarget = 0
    private var inZlibMember = false
    package var bytesOut: Int { output.bytes }
    package private(set) var members = 0
    private let name: String

    /// - Parameter name: what the stream is (a file, an object key), for error messages.
    package init(downstream: ChunkSink, name: String, chunkCapacity: Int = 1 << 20, buffers: Int = 4) throws {
        self.name = name
        guard let decompressor = libdeflate_alloc_decompressor() else {
            throw CompressionError(.compressorUnavailable, "libdeflate could not allocate a gzip decoder for \(name) (out of memory?)")
        }
        self.decompressor = decompressor
        staged = UnsafeMutableRawPointer.allocate(byteCount: Self.stagingCapacity, alignment: 64)
        output = DecodedOutput(downstream: downstream, chunkCapacity: chunkCapacity, buffers: buffers)
        guard backstream_inflate_init_gzip(&stream) == Z_OK else {
            throw CompressionError(.corrupt, "zlib could not start a gzip decoder for \(name)")
        }
        initialized = true
    }

    deinit {
        if initialized { inflateEnd(&stream) }
        libdeflate_free_decompressor(decompressor)
        staged.deallocate()
    }

    package func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        try decode(chunk.bytes)
    }

    /// Decodes bytes that the caller keeps ownership of.
    package func decode(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            if inZlibMember {
                rest = try inflateMember(rest)
                continue
            }
            // At a member boundary: gather the header, then as much as it declares.
            let want = stagedTarget > 0 ? stagedTarget : GzipMember.headerSize
            let n = min(want - stagedCount, rest.count)
            if let base = rest.baseAddress { (staged + stagedCount).copyMemory(from: base, byteCount: n) }
            stagedCount += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            guard stagedCount == want else { continue }
            if stagedTarget > 0 {
                try decodeStaged()
            } else if let size = GzipMember.declaredSize(staged), size <= Self.stagingCapacity {
                stagedTarget = size
            } else {
                // Another tool's member: zlib reads it, from the header bytes gathered so far.
                let head = [UInt8](UnsafeRawBufferPointer(start: staged, count: stagedCount))
                stagedCount = 0
                inZlibMember = true
                try head.withUnsafeBytes { head in
                    let left = try inflateMember(head)
                    if !left.isEmpty { try decode(left) }
                }
            }
        }
    }

    /// Decodes the gathered member in one call, straight into the output chunk.
    private func decodeStaged() throws {
        let size = Int(staged.loadUnaligned(fromByteOffset: stagedTarget - 4, as: UInt32.self).littleEndian)
        var out = try output.chunk()
        if out.capacity - out.count < size {
            try output.flush()
            out = try output.chunk()
        }
        var used = 0, produced = 0
        let rc = libdeflate_gzip_decompress_ex(decompressor, staged, stagedTarget, out.base + out.count,
                                               out.capacity - out.count, &used, &produced)
        guard rc == LIBDEFLATE_SUCCESS, used == stagedTarget else {
            throw CompressionError(.corrupt, "\(name) is not valid gzip (member \(members + 1) is damaged); the backup is damaged — use another one")
        }
        out.count += produced
        members += 1
        stagedCount = 0
        stagedTarget = 0
        try output.flushIfFull()
    }

    /// Streams `bytes` through zlib until the member ends; returns the bytes after its end.
    private func inflateMember(_ bytes: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(bytes.count)
        while stream.avail_in > 0 {
            let out = try output.chunk()
            stream.next_out = (out.base + out.count).assumingMemoryBound(to: Bytef.self)
            let room = out.capacity - out.count
            stream.avail_out = uInt(room)
            let rc = inflate(&stream, Z_NO_FLUSH)
            out.count += room - Int(stream.avail_out)
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                try output.flushIfFull()
                if rc == Z_BUF_ERROR && stream.avail_out > 0 { return UnsafeRawBufferPointer(start: nil, count: 0) }
            case Z_STREAM_END:
                members += 1
                inZlibMember = false
                inflateReset(&stream)
                try output.flushIfFull()
                return UnsafeRawBufferPointer(start: stream.next_in, count: Int(stream.avail_in))
            default:
                let detail = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw CompressionError(.corrupt, "\(name) is not valid gzip (\(detail)); the backup is damaged — use another one")
            }
        }
        return UnsafeRawBufferPointer(start: nil, count: 0)
    }

    package func finish() throws {
        if inZlibMember || stagedCount > 0 || members == 0 {
            throw CompressionError(.truncated, "\(name) ends in the middle of its gzip data; the file or object was cut short")
        }
        try output.finish()
    }

    package func abort(_ error: Error) { output.abort(error) }
}
