import ChunkIO
import CLibdeflate
import CZlib

/// Streams gzip (one member or many) back to plain bytes, checking each member's CRC-32 and
/// length. A stream that ends inside a member is reported as truncated.
///
/// Backstream's own members declare their length (`GzipMember`): they are gathered whole and
/// decoded in one libdeflate call, about twice as fast as zlib, and two at a time: every other
/// member goes to a `GzipMemberWorker` while this thread decodes the next. Any other member
/// (gzip's, pigz's, a single 300 MB one) streams through zlib, in order, on this thread.
package final class GzipDecoder: ChunkSink {
    /// The longest member gathered whole; Backstream writes members of at most ~256 KiB.
    static let stagingCapacity = 512 << 10

    private let output: DecodedOutput
    private var stream = z_stream()
    private var initialized = false
    private let decompressor: OpaquePointer
    private var staged: UnsafeMutableRawPointer
    private var stagedCount = 0
    /// The member the worker decodes: its input buffer (swapped with `staged`), the buffer its
    /// output lands in, and its declared length; nil length when none is out.
    private let worker: GzipMemberWorker?
    private var workerInput: UnsafeMutableRawPointer
    private let workerOutput: UnsafeMutableRawPointer
    private var workerLength: Int?
    /// Where this thread decodes a member while the worker's is still out.
    private let localOutput: UnsafeMutableRawPointer
    private let chunkCapacity: Int
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
        workerInput = UnsafeMutableRawPointer.allocate(byteCount: Self.stagingCapacity, alignment: 64)
        workerOutput = UnsafeMutableRawPointer.allocate(byteCount: chunkCapacity, alignment: 64)
        localOutput = UnsafeMutableRawPointer.allocate(byteCount: chunkCapacity, alignment: 64)
        self.chunkCapacity = chunkCapacity
        worker = GzipMemberWorker()
        output = DecodedOutput(downstream: downstream, chunkCapacity: chunkCapacity, buffers: buffers)
        guard backstream_inflate_init_gzip(&stream) == Z_OK else {
            throw CompressionError(.corrupt, "zlib could not start a gzip decoder for \(name)")
        }
        initialized = true
    }

    deinit {
        worker?.stop()
        if initialized { inflateEnd(&stream) }
        libdeflate_free_decompressor(decompressor)
        staged.deallocate()
        workerInput.deallocate()
        workerOutput.deallocate()
        localOutput.deallocate()
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
                // Another tool's member: zlib reads it, from the header bytes gathered so far,
                // after the member the worker holds.
                try collectWorkerMember()
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

    /// Decodes the gathered member in one libdeflate call: hands it to the worker when the worker
    /// is free, else decodes it here beside the worker's and appends both in order.
    private func decodeStaged() throws {
        let size = Int(staged.loadUnaligned(fromByteOffset: stagedTarget - 4, as: UInt32.self).littleEndian)
        defer {
            stagedCount = 0
            stagedTarget = 0
        }
        if let worker, workerLength == nil, size <= chunkCapacity {
            swap(&staged, &workerInput)
            try worker.submit(.init(input: workerInput, count: stagedTarget, output: workerOutput, capacity: size))
            workerLength = size
            return
        }
        var used = 0, produced = 0
        let rc = libdeflate_gzip_decompress_ex(decompressor, staged, stagedTarget, localOutput, min(size, chunkCapacity), &used, &produced)
        try collectWorkerMember()
        guard rc == LIBDEFLATE_SUCCESS, used == stagedTarget else { throw damagedMember() }
        try append(localOutput, produced)
    }

    /// Waits for the worker's member, if one is out, and appends it.
    private func collectWorkerMember() throws {
        guard let worker, let expected = workerLength else { return }
        workerLength = nil
        guard let produced = try worker.result(), produced == expected else { throw damagedMember() }
        try append(workerOutput, produced)
    }

    private func append(_ bytes: UnsafeRawPointer, _ count: Int) throws {
        var out = try output.chunk()
        if out.capacity - out.count < count {
            try output.flush()
            out = try output.chunk()
        }
        (out.base + out.count).copyMemory(from: bytes, byteCount: count)
        out.count += count
        members += 1
        try output.flushIfFull()
    }

    private func damagedMember() -> CompressionError {
        CompressionError(.corrupt, "\(name) is not valid gzip (member \(members + 1) is damaged); the backup is damaged — use another one")
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
        try collectWorkerMember()
        if inZlibMember || stagedCount > 0 || members == 0 {
            throw CompressionError(.truncated, "\(name) ends in the middle of its gzip data; the file or object was cut short")
        }
        try output.finish()
    }

    package func abort(_ error: Error) { output.abort(error) }
}
