import ChunkIO

extension ObjectStore {
    /// The whole object at `key` in memory, for small objects (leases, markers): one larger
    /// than `limit` bytes is refused (`.invalidArgument`) after `limit` bytes, so a huge
    /// object planted at the key cannot exhaust memory. A missing one throws `.notFound`.
    package func getBytes(key: String, limit: Int) throws -> [UInt8] {
        let sink = BytesSink(limit: limit, store: displayName, key: key)
        try get(key: key, into: sink)
        return sink.bytes
    }

    /// Stores without a one-request read: HEAD, GET, HEAD until the ETag holds still.
    package func getVersion(key: String, limit: Int) throws -> ObjectVersion? {
        try readVersionInSteps(key: key, limit: limit)
    }

    package func readVersionInSteps(key: String, limit: Int) throws -> ObjectVersion? {
        for _ in 0..<4 {
            guard let before = try head(key: key)?.etag else { return nil }
            let bytes: [UInt8]
            do {
                bytes = try getBytes(key: key, limit: limit)
            } catch let error as ObjectStoreError where error.code == .notFound {
                return nil
            }
            if try head(key: key)?.etag == before { return ObjectVersion(bytes: bytes, etag: before) }
        }
        throw ObjectStoreError(.serverError, store: displayName, key: key, cause: "the object changed on every read")
    }

    /// The refusal of an object over `limit` bytes.
    func tooLarge(_ key: String, limit: Int) -> ObjectStoreError {
        ObjectStoreError.tooLarge(store: displayName, key: key, limit: limit)
    }
}

extension ObjectStoreError {
    static func tooLarge(store: String, key: String, limit: Int) -> ObjectStoreError {
        ObjectStoreError(.invalidArgument, store: store, key: key, cause: "the object is larger than the \(limit) bytes expected here")
    }
}

/// Collects what a `get` delivers, up to a limit.
private final class BytesSink: ChunkSink {
    private(set) var bytes: [UInt8] = []
    private let limit: Int
    private let store: String
    private let key: String

    init(limit: Int, store: String, key: String) {
        self.limit = limit
        self.store = store
        self.key = key
    }

    func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        guard bytes.count + chunk.count <= limit else {
            throw ObjectStoreError.tooLarge(store: store, key: key, limit: limit)
        }
        bytes.append(contentsOf: chunk.bytes)
    }

    func finish() throws {}
    func abort(_ error: Error) {}
}
