import ChunkIO
import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// Objects as files under a local folder: key `a/b.sql.gz` is the file `<root>/a/b.sql.gz`, its
/// metadata the sidecar `<root>/a/b.sql.gz.meta.json`. Writes go to a temporary file created
/// with `O_EXCL|O_NOFOLLOW` beside the target, fsynced, renamed into place and the folder
/// fsynced, so a reader sees an old object, a whole new one, or none — never a partial file.
///
/// The store never follows a symbolic link below its root (the root itself may be one): a key
/// that resolves through a link is refused (`.symlinkRefused`) for every operation, so nothing
/// outside the folder is read, written or deleted.
package struct DirectoryStore: ObjectStore {
    package let root: String
    static let sidecarSuffix = ".meta.json"
    static let temporaryMarker = ".tmp-"
    static let maximumKeyBytes = 1024
    /// Leaves room under NAME_MAX (255) for the sidecar suffix and the temporary name around it.
    static let maximumNameBytes = 200
    /// The largest sidecar read; a bigger one is not ours.
    static let maximumSidecarBytes = 1 << 20

    package init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    package var displayName: String { "folder \(root)" }

    @discardableResult
    package func put(key: String, bytes: [UInt8], metadata: [String: String], contentType: String,
                     condition: WriteCondition) throws -> String? {
        let upload = try makeDirectoryUpload(key: key, metadata: metadata, contentType: contentType, condition: condition)
        do {
            try bytes.withUnsafeBytes { try upload.writeAll($0) }
        } catch {
            upload.abort(error)
            throw error
        }
        try upload.finish()
        return upload.etag
    }

    package func makeUpload(key: String, metadata: [String: String], contentType: String, sizeHint: Int?,
                            condition: WriteCondition) throws -> ObjectUpload {
        try makeDirectoryUpload(key: key, metadata: metadata, contentType: contentType, condition: condition)
    }

    func makeDirectoryUpload(key: String, metadata: [String: String], contentType: String,
                             condition: WriteCondition = .none) throws -> DirectoryUpload {
        let name = try objectName(key)
        guard let chain = try openFolders(of: key, create: true) else { throw notFound(key, "its folder cannot be created") }
        try refuseLink(chain.last, name, key: key)
        let file = try AtomicFile(in: chain.last, name: name, store: displayName, key: key)
        return DirectoryUpload(store: self, key: key, folder: chain.last, name: name, file: file,
                               metadata: metadata, contentType: contentType, condition: condition)
    }

    /// The file read through one descriptor: its ETag (inode, size, mtime) is of the bytes read.
    package func getVersion(key: String, limit: Int) throws -> ObjectVersion? {
        let fd: Int32
        do {
            fd = try openForReading(key)
        } catch let error as ObjectStoreError where error.code == .notFound {
            return nil
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ObjectStoreError(.localFailure, store: displayName, key: key, cause: "cannot stat: \(errnoText(errno))")
        }
        guard Int(info.st_size) <= limit else { throw tooLarge(key, limit: limit) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            let n: Int
            do {
                n = try bytes.withUnsafeMutableBytes { buffer in
                    guard let base = buffer.baseAddress else { return 0 }
                    return try Syscall.retrying { read(fd, base + filled, buffer.count - filled) }
                }
            } catch let error as ErrnoError {
                throw ObjectStoreError(.localFailure, store: displayName, key: key, cause: "cannot read: \(errnoText(error.errno))")
            }
            if n == 0 { break }
            filled += n
        }
        return ObjectVersion(bytes: Array(bytes.prefix(filled)), etag: Self.etag(info))
    }

    package func get(key: String, into sink: ChunkSink) throws {
        let fd: Int32
        do {
            fd = try openForReading(key)
        } catch {
            sink.abort(error)
            throw error
        }
        defer { close(fd) }
        let pool = ChunkPool(size: 2, chunkCapacity: 1 << 20)
        do {
            var ended = false
            while !ended {
                let chunk = try pool.take()
                // Fill whole chunks: the sink sees 1 MiB chunks whatever read() returns.
                while !chunk.isFull {
                    let n: Int
                    do {
                        n = try Syscall.retrying { read(fd, chunk.base + chunk.count, chunk.remaining) }
                    } catch {
                        throw ObjectStoreError(.localFailure, store: displayName, key: key, cause: "cannot read: \(errnoText(error.errno))")
                    }
                    if n == 0 { ended = true; break }
                    chunk.count += n
                }
                if chunk.count > 0 { try sink.write(chunk) } else { chunk.recycle() }
            }
        } catch {
            sink.abort(error)
            throw error
        }
        try sink.finish()
    }

    package func head(key: String) throws -> ObjectInfo? {
        let name = try objectName(key)
        guard let chain = try openFolders(of: key, create: false) else { return nil }
        let (kind, info) = chain.last.kind(of: name)
        switch kind {
        case .symlink: throw linkRefused(key, "it is a symbolic link")
        case .regular:
            return ObjectInfo(key: key, size: Int(info.st_size), lastModified: Self.modified(info), etag: Self.etag(info),
                              metadata: try readSidecar(chain.last, name, key: key)?.metadata ?? [:])
        default: return nil
        }
    }

    package func list(prefix: String) throws -> [ObjectInfo] {
        try validatePrefix(prefix)
        var found: [ObjectInfo] = []
        try walk(prefix: prefix) { folder, name, key, info in
            guard key.hasPrefix(prefix), !name.hasSuffix(Self.sidecarSuffix), !Self.isTemporary(name) else { return }
            found.append(ObjectInfo(key: key, size: Int(info.st_size), lastModified: Self.modified(info), etag: Self.etag(info),
                                    metadata: try readSidecar(folder, name, key: key)?.metadata ?? [:]))
        }
        return found.sorted { $0.key < $1.key }
    }

    /// Deletes each object and its metadata file, then folders left empty.
    package func delete(keys: [String]) throws {
        for key in keys {
            let name = try objectName(key)
            guard let chain = try openFolders(of: key, create: false) else { continue }
            switch chain.last.kind(of: name).0 {
            case .symlink: throw linkRefused(key, "it is a symbolic link")
            case .directory, .other:
                throw ObjectStoreError(.localFailure, store: displayName, key: key, cause: "it is not a file; nothing was deleted")
            case .missing, .regular: break
            }
            for file in [name, name + Self.sidecarSuffix] where unlinkat(chain.last.fd, file, 0) != 0 && errno != ENOENT {
                throw ObjectStoreError(.localFailure, store: displayName, key: key,
                                       cause: "cannot delete \(file): \(errnoText(errno))")
            }
            // Folders emptied by the delete go too, deepest first; a non-empty one stops it.
            for index in stride(from: chain.names.count - 1, through: 0, by: -1) {
                if unlinkat(chain.folders[index].fd, chain.names[index], AT_REMOVEDIR) != 0 { break }
            }
        }
    }

    /// Removes metadata files whose object is gone (a crash between writing the metadata and
    /// renaming the object, or an object deleted by hand) under `prefix`, when last written
    /// more than `age` seconds before `now`: a younger one may belong to an upload finishing
    /// right now. Returns the keys whose metadata was removed.
    package func removeOrphanMetadata(prefix: String, olderThan age: TimeInterval = 600, now: Date = Date()) throws -> [String] {
        try validatePrefix(prefix)
        var removed: [String] = []
        try walk(prefix: prefix) { folder, name, key, info in
            guard name.hasSuffix(Self.sidecarSuffix), !Self.isTemporary(name) else { return }
            let objectName = String(name.dropLast(Self.sidecarSuffix.count))
            let objectKey = String(key.dropLast(Self.sidecarSuffix.count))
            guard objectKey.hasPrefix(prefix), folder.kind(of: objectName).0 != .regular,
                  now.timeIntervalSince(Self.modified(info)) > age else { return }
            if unlinkat(folder.fd, name, 0) != 0 && errno != ENOENT {
                throw ObjectStoreError(.localFailure, store: displayName, key: objectKey,
                                       cause: "cannot delete its orphan metadata file: \(errnoText(errno))")
            }
            removed.append(objectKey)
        }
        return removed.sorted()
    }
}
