import ChunkIO

/// Streams into the atomic temporary file; `finish` writes the sidecar, then renames into place.
final class DirectoryUpload: ObjectUpload {
    private let store: DirectoryStore
    private let key: String
    private let path: String
    private let file: FileSink
    private let metadata: [String: String]
    private let contentType: String

    init(store: DirectoryStore, key: String, path: String, file: FileSink, metadata: [String: String], contentType: String) {
        self.store = store
        self.key = key
        self.path = path
        self.file = file
        self.metadata = metadata
        self.contentType = contentType
    }

    func write(_ chunk: Chunk) throws {
        try store.wrap(key) { try file.write(chunk) }
    }

    func finish() throws {
        do {
            try store.writeSidecar(for: key, path: path, metadata: metadata, contentType: contentType)
            try store.wrap(key) { try file.finish() }
        } catch {
            file.abort(error)
            throw error
        }
    }

    func abort(_ error: Error) { file.abort(error) }
}
