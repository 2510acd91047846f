import ChunkIO
import Foundation
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
public struct DirectoryStore: ObjectStore {
    public let root: String
    static let sidecarSuffix = ".meta.json"
    static let temporaryMarker = ".tmp-"
    static let maximumKeyBytes = 1024
    /// Leaves room under NAME_MAX (255) for the sidecar suffix and the temporary name around it.
    static let maximumNameBytes = 200
    /// The largest sidecar read; a bigger one is not ours.
    static let maximumSidecarBytes = 1 << 20

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    public var displayName: String { "folder \(root)" }

    public func put(key: String, bytes: [UInt8], metadata: [String: String], contentType: String) throws {
        let upload = try makeDirectoryUpload(key: key, metadata: metadata, contentType: contentType)
        do {
            try bytes.withUnsafeBytes { try upload.writeAll($0) }
        } catch {
            upload.abort(error)
            throw error
        }
        try upload.finish()
    }

    public func makeUpload(key: String, metadata: [String: String], contentType: String, sizeHint: Int?) throws -> ObjectUpload {
        try makeDirectoryUpload(key: key, metadata: metadata, contentType: contentType)
    }

    func makeDirectoryUpload(key: String, metadata: [String: String], contentType: String) throws -> DirectoryUpload {
        let name = try objectName(key)
        guard let chain = try openFolders(of: key, create: true) else { throw notFound(key, "its folder cannot be created") }
        try refuseLink(chain.last, name, key: key)
        let file = try AtomicFile(in: chain.last, name: name, store: displayName, key: key)
        return DirectoryUpload(store: self, key: key, folder: chain.last, name: name, file: file,
                               metadata: metadata, contentType: contentType)
    }

    public func get(key: String, into sink: ChunkSink) throws {
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
                    let n = read(fd, chunk.base + chunk.count, chunk.remaining)
                    if n < 0 {
                        let code = errno
                        if code == EINTR { continue }
                        throw ObjectStoreError(.localFailure, store: displayName, key: key, cause: "cannot read: \(errnoText(code))")
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

    public func head(key: String) throws -> ObjectInfo? {
        let name = try objectName(key)
        guard let chain = try openFolders(of: key, create: false) else { return nil }
        let (kind, info) = chain.last.kind(of: name)
        switch kind {
        case .symlink: throw linkRefused(key, "it is a symbolic link")
        case .regular:
            return ObjectInfo(key: key, size: Int(info.st_size), lastModified: Self.modified(info), etag: nil,
                              metadata: try readSidecar(chain.last, name, key: key)?.metadata ?? [:])
        default: return nil
        }
    }

    public func list(prefix: String) throws -> [ObjectInfo] {
        try validatePrefix(prefix)
        var found: [ObjectInfo] = []
        try walk(prefix: prefix) { folder, name, key, info in
            guard key.hasPrefix(prefix), !name.hasSuffix(Self.sidecarSuffix), !Self.isTemporary(name) else { return }
            found.append(ObjectInfo(key: key, size: Int(info.st_size), lastModified: Self.modified(info), etag: nil,
                                    metadata: try readSidecar(folder, name, key: key)?.metadata ?? [:]))
        }
        return found.sorted { $0.key < $1.key }
    }

    /// Deletes each object and its metadata file, then folders left empty.
    public func delete(keys: [String]) throws {
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
    public func removeOrphanMetadata(prefix: String, olderThan age: TimeInterval = 600, now: Date = Date()) throws -> [String] {
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

    // MARK: Internals

    struct Sidecar: Codable {
        var contentType: String
        var metadata: [String: String]
    }

    /// Writes `key`'s metadata file atomically in `folder`.
    func writeSidecar(in folder: Folder, name: String, key: String, metadata: [String: String], contentType: String) throws {
        let json = try JSONEncoder().encode(Sidecar(contentType: contentType, metadata: metadata))
        do {
            let file = try AtomicFile(in: folder, name: name + Self.sidecarSuffix, store: displayName, key: key)
            try json.withUnsafeBytes { try file.write($0) }
            try file.commit()
        } catch let error as ObjectStoreError {
            var error = error
            error.stage = .writeMetadata
            throw error
        }
    }

    private func readSidecar(_ folder: Folder, _ name: String, key: String) throws -> Sidecar? {
        let fd = openat(folder.fd, name + Self.sidecarSuffix, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            if errno == ELOOP || folder.kind(of: name + Self.sidecarSuffix).0 == .symlink {
                throw linkRefused(key, "its metadata file is a symbolic link")
            }
            return nil
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= Self.maximumSidecarBytes else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                buffer.baseAddress.map { read(fd, $0 + filled, buffer.count - filled) } ?? 0
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            filled += n
        }
        return try? JSONDecoder().decode(Sidecar.self, from: Data(bytes[0..<filled]))
    }

    /// Temporaries are `.<name>.tmp-<pid>-<random>`.
    static func isTemporary(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(temporaryMarker) }

    /// The key of the object a temporary file was being written for.
    static func keyOfTemporary(folderKey: String, name: String) -> String? {
        guard isTemporary(name), let marker = name.range(of: temporaryMarker, options: .backwards) else { return nil }
        var target = String(name[name.index(after: name.startIndex)..<marker.lowerBound])
        if target.hasSuffix(sidecarSuffix) { target = String(target.dropLast(sidecarSuffix.count)) }
        return folderKey + target
    }

    static func modified(_ info: stat) -> Date {
        Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
    }

    /// The key's last name, after checking the whole key: non-empty '/'-separated names, none
    /// `.`, `..` or over 200 bytes, no control characters, at most 1024 bytes, not one of the
    /// store's own metadata or temporary names.
    func objectName(_ key: String) throws -> String {
        func invalid(_ cause: String) -> ObjectStoreError { .invalidKey(store: displayName, key: key, cause: cause) }
        if key.isEmpty { throw invalid("the key is empty") }
        if key.utf8.count > Self.maximumKeyBytes {
            throw invalid("the key is \(key.utf8.count) bytes long; keys are at most \(Self.maximumKeyBytes) bytes")
        }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw invalid("the key contains a control character (NUL, newline, …); use printable characters")
        }
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        if segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) || key.hasSuffix(Self.sidecarSuffix) {
            throw invalid("a folder store takes keys of non-empty '/'-separated names other than '.' and '..', not ending in \(Self.sidecarSuffix)")
        }
        if segments.contains(where: { $0.utf8.count > Self.maximumNameBytes }) {
            throw invalid("a name between slashes is longer than \(Self.maximumNameBytes) bytes")
        }
        let name = String(segments[segments.count - 1])
        if Self.isTemporary(name) {
            throw invalid("names starting with '.' and containing '\(Self.temporaryMarker)' are the store's temporary files")
        }
        return name
    }

    private func validatePrefix(_ prefix: String) throws {
        if prefix.utf8.count > Self.maximumKeyBytes || prefix.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw ObjectStoreError.invalidKey(store: displayName, key: prefix,
                                              cause: "a prefix is at most \(Self.maximumKeyBytes) bytes of printable characters")
        }
    }

    func notFound(_ key: String, _ cause: String) -> ObjectStoreError {
        ObjectStoreError(.notFound, store: displayName, key: key, cause: cause)
    }

    func linkRefused(_ key: String, _ cause: String) -> ObjectStoreError {
        ObjectStoreError(.symlinkRefused, store: displayName, key: key, cause: cause)
    }

    private func refuseLink(_ folder: Folder, _ name: String, key: String) throws {
        if folder.kind(of: name).0 == .symlink { throw linkRefused(key, "it is a symbolic link") }
    }

    /// Opens the root (following a link there: the user chose it) and, from it, each folder
    /// on the way to `key` without following links. nil when a folder is missing and
    /// `create` is false.
    func openFolders(of key: String, create: Bool) throws -> FolderChain? {
        var rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if rootFD < 0 && errno == ENOENT && create {
            do {
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            } catch {
                throw ObjectStoreError(.localFailure, store: displayName, key: key, cause: "cannot create the folder: \(error)")
            }
            rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        if rootFD < 0 {
            let code = errno
            if code == ENOENT && !create { return nil }
            throw ObjectStoreError(.localFailure, store: displayName, key: nil, cause: "cannot open the folder: \(errnoText(code))")
        }
        var folders = [Folder(fd: rootFD)]
        var names: [String] = []
        for segment in key.split(separator: "/", omittingEmptySubsequences: false).dropLast() {
            let name = String(segment)
            let parent = folders[folders.count - 1]
            var fd = openat(parent.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 && errno == ENOENT && create {
                if mkdirat(parent.fd, name, 0o755) != 0 && errno != EEXIST {
                    throw ObjectStoreError(.localFailure, store: displayName, key: key,
                                           cause: "cannot create its folder \"\((names + [name]).joined(separator: "/"))\": \(errnoText(errno))")
                }
                fd = openat(parent.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if fd < 0 {
                let code = errno
                let path = (names + [name]).joined(separator: "/")
                switch parent.kind(of: name).0 {
                case .symlink: throw linkRefused(key, "its folder \"\(path)\" is a symbolic link")
                case .missing where !create: return nil
                case .regular, .other:
                    if !create { return nil }
                    throw ObjectStoreError(.localFailure, store: displayName, key: key,
                                           cause: "\"\(path)\" is a file, not a folder; remove it or use another key")
                default:
                    throw ObjectStoreError(.localFailure, store: displayName, key: key,
                                           cause: "cannot open its folder \"\(path)\": \(errnoText(code))")
                }
            }
            folders.append(Folder(fd: fd))
            names.append(name)
        }
        return FolderChain(folders: folders, names: names)
    }

    /// A read descriptor for the object at `key`, refusing links and anything but a regular file.
    private func openForReading(_ key: String) throws -> Int32 {
        let name = try objectName(key)
        guard let chain = try openFolders(of: key, create: false) else { throw notFound(key, "no such file") }
        // O_NONBLOCK: opening a FIFO someone put there must not wait for a writer.
        let fd = openat(chain.last.fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ELOOP || chain.last.kind(of: name).0 == .symlink { throw linkRefused(key, "it is a symbolic link") }
            if code == ENOENT { throw notFound(key, "no such file") }
            throw ObjectStoreError(.localFailure, store: displayName, key: key, cause: "cannot open: \(errnoText(code))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw notFound(key, "it is not a regular file")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Calls `visit` for every regular file in the folders that can hold keys starting with
    /// `prefix`, with its folder, name, key and `stat`. A symbolic link whose key could match
    /// the prefix is an error; other links are never looked through.
    func walk(prefix: String, _ visit: (Folder, String, String, stat) throws -> Void) throws {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if rootFD < 0 {
            let code = errno
            if code == ENOENT { return }
            throw ObjectStoreError(.localFailure, store: displayName, key: nil, cause: "cannot open the folder: \(errnoText(code))")
        }
        try walk(Folder(fd: rootFD), folderKey: "", prefix: prefix, visit)
    }

    private func walk(_ folder: Folder, folderKey: String, prefix: String,
                      _ visit: (Folder, String, String, stat) throws -> Void) throws {
        for name in try entries(of: folder, folderKey: folderKey) {
            let key = folderKey + name
            let (kind, info) = folder.kind(of: name)
            switch kind {
            case .regular:
                try visit(folder, name, key, info)
            case .directory:
                let inside = key + "/"
                guard inside.hasPrefix(prefix) || prefix.hasPrefix(inside), inside.utf8.count < Self.maximumKeyBytes else { continue }
                let fd = openat(folder.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if fd < 0 {
                    if folder.kind(of: name).0 == .symlink { throw linkRefused(key, "it is a symbolic link") }
                    continue  // removed meanwhile
                }
                try walk(Folder(fd: fd), folderKey: inside, prefix: prefix, visit)
            case .symlink:
                if key.hasPrefix(prefix) || prefix.hasPrefix(key + "/") {
                    throw linkRefused(key, "it is a symbolic link inside the folder")
                }
            case .missing, .other:
                continue
            }
        }
    }

    private func entries(of folder: Folder, folderKey: String) throws -> [String] {
        let copy = dup(folder.fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            let code = errno
            if copy >= 0 { close(copy) }
            throw ObjectStoreError(.localFailure, store: displayName, key: folderKey.isEmpty ? nil : folderKey,
                                   cause: "cannot read the folder: \(errnoText(code))")
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

extension DirectoryStore: StaleUploadCleaning {
    /// The temporary files under `prefix` (uploads in progress, or left by a killed run):
    /// `uploadId` is the file's name, `initiated` its last write.
    public func listPendingUploads(prefix: String) throws -> [PendingMultipartUpload] {
        try validatePrefix(prefix)
        var pending: [PendingMultipartUpload] = []
        try walk(prefix: prefix) { _, name, key, info in
            let folderKey = String(key.dropLast(name.count))
            guard let target = Self.keyOfTemporary(folderKey: folderKey, name: name), target.hasPrefix(prefix) else { return }
            pending.append(PendingMultipartUpload(key: target, uploadId: name, initiated: Self.modified(info)))
        }
        return pending.sorted { ($0.key, $0.uploadId) < ($1.key, $1.uploadId) }
    }

    /// Removes temporary files under `prefix` not written to for more than `age` seconds.
    public func abortStaleUploads(prefix: String, olderThan age: TimeInterval, now: Date = Date()) throws -> [PendingMultipartUpload] {
        try validatePrefix(prefix)
        var removed: [PendingMultipartUpload] = []
        try walk(prefix: prefix) { folder, name, key, info in
            let folderKey = String(key.dropLast(name.count))
            guard let target = Self.keyOfTemporary(folderKey: folderKey, name: name), target.hasPrefix(prefix),
                  now.timeIntervalSince(Self.modified(info)) > age else { return }
            if unlinkat(folder.fd, name, 0) != 0 && errno != ENOENT {
                throw ObjectStoreError(.localFailure, store: displayName, key: target,
                                       cause: "cannot delete the stale temporary file \(name): \(errnoText(errno))")
            }
            removed.append(PendingMultipartUpload(key: target, uploadId: name, initiated: Self.modified(info)))
        }
        return removed.sorted { ($0.key, $0.uploadId) < ($1.key, $1.uploadId) }
    }
}
