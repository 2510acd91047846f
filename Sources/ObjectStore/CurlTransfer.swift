import ChunkIO
import Foundation

/// Where a response body goes when it is not collected: chunks from `pool` handed to `sink`.
final class BodyStream {
    let sink: ChunkSink
    let pool: ChunkPool
    var current: Chunk?
    var delivered = 0
    var failure: Error?
    /// The object's ETag from the answer that delivered the first bytes: a resumed download
    /// asks for the rest of exactly that version.
    var etag: String?
    /// Set for a resumed download, which must come back as 206 Partial Content: a 200 would
    /// start again from byte 0 and duplicate what the sink already has.
    var requiredStatus: Int?

    init(sink: ChunkSink, pool: ChunkPool) {
        self.sink = sink
        self.pool = pool
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            let chunk = try current ?? pool.take()
            current = chunk
            let n = chunk.append(rest)
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            delivered += n
            if chunk.isFull {
                current = nil
                try sink.write(chunk)
            }
        }
    }

    func flush() throws {
        if let chunk = current {
            current = nil
            if chunk.count > 0 { try sink.write(chunk) } else { chunk.recycle() }
        }
    }
}

/// A resumed download that came back with the wrong status.
struct StreamStatusError: Error {
    let status: Int
}

/// State one transfer shares with curl's C callbacks, passed as an opaque pointer.
final class Transfer {
    let body: UnsafeRawBufferPointer
    var offset = 0
    var status = 0
    var headers: [String: String] = [:]
    var collected: [UInt8] = []
    let stream: BodyStream?

    init(body: UnsafeRawBufferPointer, stream: BodyStream?) {
        self.body = body
        self.stream = stream
    }

    var isSuccess: Bool { (200..<300).contains(status) }
}

func curlRead(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                      _ context: UnsafeMutableRawPointer?) -> Int {
    guard let buffer, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let n = min(size * count, transfer.body.count - transfer.offset)
    if n > 0, let base = transfer.body.baseAddress {
        UnsafeMutableRawPointer(buffer).copyMemory(from: base + transfer.offset, byteCount: n)
        transfer.offset += n
    }
    return n
}

func curlWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                       _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    // Error bodies are always collected: they carry the S3 error code.
    if let stream = transfer.stream, transfer.isSuccess {
        do {
            if let required = stream.requiredStatus, transfer.status != required {
                throw StreamStatusError(status: transfer.status)
            }
            if stream.etag == nil { stream.etag = transfer.headers["etag"] }
            try stream.append(bytes)
        } catch {
            stream.failure = error
            return 0
        }
    } else if transfer.collected.count < 16 * 1024 * 1024 {
        transfer.collected.append(contentsOf: bytes)
    }
    return size * count
}

func curlHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                        _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        // A new status line (after 100 Continue, say) starts a fresh header block.
        let fields = line.split(separator: " ")
        transfer.status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
        transfer.headers = [:]
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        transfer.headers[name] = value
    }
    return size * count
}
