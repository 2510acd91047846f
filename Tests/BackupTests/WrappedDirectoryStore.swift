import ChunkIO
import ObjectStore

/// A real folder store with one behaviour changed by a test: a conformer implements what it
/// changes, and everything else goes to `base`.
protocol WrappedDirectoryStore: ObjectStore {
    var base: DirectoryStore { get }
}

extension WrappedDirectoryStore {
    var displayName: String { base.displayName }
    @discardableResult
    func put(key: String, bytes: [UInt8], metadata: [String: String], contentType: String,
             condition: WriteCondition) throws -> String? {
        try base.put(key: key, bytes: bytes, metadata: metadata, contentType: contentType, condition: condition)
    }
    func makeUpload(key: String, metadata: [String: String], contentType: String, sizeHint: Int?,
                    condition: WriteCondition) throws -> ObjectUpload {
        try base.makeUpload(key: key, metadata: metadata, contentType: contentType, sizeHint: sizeHint, condition: condition)
    }
    func get(key: String, into sink: ChunkSink) throws { try base.get(key: key, into: sink) }
    func head(key: String) throws -> ObjectInfo? { try base.head(key: key) }
    func list(prefix: String) throws -> [ObjectInfo] { try base.list(prefix: prefix) }
    func delete(keys: [String]) throws { try base.delete(keys: keys) }
}
