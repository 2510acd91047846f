import ChunkIO
import Foundation

/// Where a response body goes when it is not collected: chunks from `pool` handed to `sink`.
final class BodyStream {
    let sink: ChunkSink
    let pool: ChunkPool
    var current: Chunk?
    var delivered = 0
    var failure: Error?
    /// The object's ETag and size from the first answer: a resumed download asks for the rest
    /// of exactly that version.
    var etag: String?
    var total: Int?
    /// Set for a resumed attempt: the offset its answer must start at.
    private(set) var resumeFrom: Int?
    private var answerChecked = false

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

    /// Checks an answer before its first body byte is used. A resumed answer must be the 206 of
    /// the same version starting exactly at `resumeFrom`: anything else (a 200 from byte 0, a
    /// proxy that ignored If-Match) would stitch the wrong bytes together.
    func accept(status: Int, headers: [String: String]) throws {
        guard !answerChecked else { return }
        answerChecked = true
        guard let start = resumeFrom else {
            etag = headers["etag"]
            total = headers["content-length"].flatMap { Int($0) }
            return
        }
        guard status == 206 else {
            throw ResumeMismatch(reason: "the server answered a resumed download with HTTP \(status) instead of 206 Partial Content")
        }
        guard headers["content-range"]?.hasPrefix("bytes \(start)-") == true else {
            throw ResumeMismatch(reason: "the server resumed the download at \(headers["content-range"] ?? "an unstated range"), not at byte \(start)")
        }
        if let etag, let answered = headers["etag"], answered != etag {
            throw ResumeMismatch(reason: ResumeMismatch.replaced)
        }
    }

    /// Starts an attempt: from byte 0, or resuming after the bytes already delivered.
    func beginAttempt() {
        resumeFrom = delivered > 0 ? delivered : nil
        answerChecked = false
    }

    func flush() throws {
        if let chunk = current {
            current = nil
            if chunk.count > 0 { try sink.write(chunk) } else { chunk.recycle() }
        }
    }
}

/// A resumed download whose answer does not continue what was already delivered.
struct ResumeMismatch: Error {
    let reason: String
    static let replaced = "the object was replaced while it was being downloaded; run the command again"
}

/// State one transfer shares with curl's C callbacks, passed as an opaque pointer.
final class Transfer {
    let body: UnsafeRawBufferPointer
    var offset = 0
    var status = 0
    var headers: [String: String] = [:]
    var collected: [UInt8] = []
    let stream: BodyStream?
    /// The blank line that ends a header block arrived. libcurl reports success for an answer
    /// cut off inside its headers, which would otherwise read as an empty 200.
    var headersComplete = false

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
            try stream.accept(status: transfer.status, headers: transfer.headers)
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
    if line == "\r\n" || line == "\n" {
        transfer.headersComplete = true
    } else if line.hasPrefix("HTTP/") {
        // A new status line (after 100 Continue, say) starts a fresh header block.
        let fields = line.split(separator: " ")
        transfer.status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
        transfer.headers = [:]
        transfer.headersComplete = false
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        transfer.headers[name] = value
    }
    return size * count
}
