import ChunkIO
import Foundation

/// What a store knows about one object. `metadata` holds the user metadata without its
/// `x-amz-meta-` prefix, keys in lower case.
package struct ObjectInfo: Sendable, Equatable {
    package var key: String
    package var size: Int
    package var lastModified: Date
    package var etag: String?
    package var metadata: [String: String]

    package init(key: String, size: Int, lastModified: Date, etag: String?, metadata: [String: String]) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.etag = etag
        self.metadata = metadata
    }
}

/// A flat namespace of immutable objects: S3-compatible storage or a local folder.
///
/// Calls block the calling thread; run them off Swift's cooperative pool.
package protocol ObjectStore: Sendable {
    /// Where the objects live, for messages (`s3://bucket`, `folder /abs/path`); never a secret.
    var displayName: String { get }
    /// Stores `bytes` at `key` if `condition` holds (else `.preconditionFailed`, nothing
    /// written); returns the new object's ETag, nil when the store cannot tell.
    @discardableResult
    func put(key: String, bytes: [UInt8], metadata: [String: String], contentType: String,
             condition: WriteCondition) throws -> String?
    /// A sink whose bytes become the object at `key` when `finish()` returns, if `condition`
    /// still holds then (else `finish()` throws `.preconditionFailed`); `abort(_:)` leaves nothing.
    func makeUpload(key: String, metadata: [String: String], contentType: String, sizeHint: Int?,
                    condition: WriteCondition) throws -> ObjectUpload
    /// Streams the object into `sink` chunk by chunk, then calls `sink.finish()`.
    func get(key: String, into sink: ChunkSink) throws
    /// nil when there is no object at `key`.
    func head(key: String) throws -> ObjectInfo?
    /// Every object whose key starts with `prefix`, sorted by key. S3 listings carry no metadata.
    func list(prefix: String) throws -> [ObjectInfo]
    func delete(keys: [String]) throws
    /// A small object whole with the ETag of exactly that version, in one request where the
    /// store allows it; nil when there is none. Larger than `limit` bytes is refused
    /// (`.invalidArgument`) without reading it all.
    func getVersion(key: String, limit: Int) throws -> ObjectVersion?
    /// Memory an upload holds in its own buffers (S3's parts in flight), so that a caller keeping
    /// the process under a bound can spend less elsewhere; 0 when writes go straight to a file.
    var uploadBufferBytes: Int { get }
}

extension ObjectStore {
    package var uploadBufferBytes: Int { 0 }
}

/// A small object's bytes and the ETag of that version.
package struct ObjectVersion: Sendable, Equatable {
    package var bytes: [UInt8]
    package var etag: String

    package init(bytes: [UInt8], etag: String) {
        self.bytes = bytes
        self.etag = etag
    }
}

/// An object being written. Chunks may have any size; nothing is visible before `finish()`.
package protocol ObjectUpload: ChunkSink {
    /// The stored object's ETag once `finish()` returned; nil before, or when the store did not say.
    var etag: String? { get }
}

extension ObjectUpload {
    package var etag: String? { nil }
}

extension ObjectStore {
    /// An unconditional write.
    package func put(key: String, bytes: [UInt8], metadata: [String: String], contentType: String) throws {
        try put(key: key, bytes: bytes, metadata: metadata, contentType: contentType, condition: .none)
    }

    /// An unconditional upload.
    package func makeUpload(key: String, metadata: [String: String], contentType: String, sizeHint: Int?) throws -> ObjectUpload {
        try makeUpload(key: key, metadata: metadata, contentType: contentType, sizeHint: sizeHint, condition: .none)
    }

    /// `list(prefix:)` with each object's metadata filled in (one `head` per object on S3).
    package func listWithMetadata(prefix: String) throws -> [ObjectInfo] {
        try list(prefix: prefix).compactMap { info in
            if !info.metadata.isEmpty { return info }
            return try head(key: info.key)
        }
    }
}
