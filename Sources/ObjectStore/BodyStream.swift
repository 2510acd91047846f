import ChunkIO

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

    /// Named in a refused resumed answer.
    private let store: String
    private let key: String

    init(sink: ChunkSink, pool: ChunkPool, store: String, key: String) {
        self.sink = sink
        self.pool = pool
        self.store = store
        self.key = key
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
            throw ObjectStoreError(.resumeMismatch, store: store, key: key,
                                   cause: "the server answered a resumed download with HTTP \(status) instead of 206 Partial Content")
        }
        guard headers["content-range"]?.hasPrefix("bytes \(start)-") == true else {
            throw ObjectStoreError(.resumeMismatch, store: store, key: key,
                                   cause: "the server resumed the download at \(headers["content-range"] ?? "an unstated range"), not at byte \(start)")
        }
        if let etag, let answered = headers["etag"], answered != etag {
            throw ObjectStoreError(.resumeMismatch, store: store, key: key, cause: ObjectStoreError.objectReplaced)
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
