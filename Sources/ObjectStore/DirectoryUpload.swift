import ChunkIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Streams into the atomic temporary file; `finish` writes the metadata file, then renames the
/// object into place. One lock orders `write`, `finish` and `abort`, so an `abort` from another
/// thread waits at most for the disk call in progress and never for the caller of `finish`.
final class DirectoryUpload: FinalMetadataUpload, @unchecked Sendable {
    private let store: DirectoryStore
    private let key: String
    private let folder: Folder
    private let name: String
    private let file: AtomicFile
    private let metadata: [String: String]
    private let contentType: String
    private let condition: WriteCondition
    private let lock = NSLock()
    /// The committed file's ETag, set by `finish`.
    private var committed: String?
    private enum State { case open, finished, ended(Error) }
    private var state = State.open

    init(store: DirectoryStore, key: String, folder: Folder, name: String, file: AtomicFile,
         metadata: [String: String], contentType: String, condition: WriteCondition = .none) {
        self.store = store
        self.key = key
        self.folder = folder
        self.name = name
        self.file = file
        self.metadata = metadata
        self.contentType = contentType
        self.condition = condition
    }

    var etag: String? { lock.withLock { committed } }

    func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        try writeAll(chunk.bytes)
    }

    func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        try lock.withLock {
            try checkOpen()
            do {
                try file.write(bytes)
            } catch {
                end(error)
                throw error
            }
        }
    }

    func finish() throws {
        try finish(metadata: metadata, contentType: nil)
    }

    func finish(metadata finalMetadata: [String: String], contentType finalType: String?) throws {
        try lock.withLock {
            try checkOpen()
            do {
                // A condition is checked, and the object written, under the folder's lock.
                committed = try store.withFolderLock(folder, key: key, exclusive: condition != .none) {
                    try store.check(condition, folder: folder, name: name, key: key)
                    try store.writeSidecar(in: folder, name: name, key: key, metadata: finalMetadata,
                                           contentType: finalType ?? contentType)
                    do {
                        return DirectoryStore.etag(try file.commit(exclusive: condition == .ifAbsent))
                    } catch {
                        // Take back the metadata just written unless an older object still owns it.
                        if folder.kind(of: name).0 != .regular { unlinkat(folder.fd, name + DirectoryStore.sidecarSuffix, 0) }
                        throw error
                    }
                }
                state = .finished
            } catch {
                end(error)
                throw error
            }
        }
    }

    func abort(_ error: Error) {
        lock.withLock {
            if case .open = state { end(error) }
        }
    }

    // MARK: Internals

    /// Must hold `lock`.
    private func checkOpen() throws {
        switch state {
        case .open: return
        case .finished:
            throw ObjectStoreError(.invalidArgument, store: store.displayName, key: key, cause: "the upload was already finished")
        case .ended(let error):
            if let known = error as? ObjectStoreError { throw known }
            throw ObjectStoreError(.aborted, store: store.displayName, key: key, cause: "\(error)")
        }
    }

    /// Must hold `lock`.
    private func end(_ error: Error) {
        state = .ended(error)
        file.discard()
    }
}
