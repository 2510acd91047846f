import ChunkIO
import Foundation

/// Objects as files under a local folder: key `a/b.sql.gz` is the file `<root>/a/b.sql.gz`, its
/// metadata the sidecar `<root>/a/b.sql.gz.meta.json`. Writes go through a temporary name and a
/// rename, so a reader sees an old object, a whole new one, or none — never a partial file.
public struct DirectoryStore: ObjectStore {
    public let root: String
    static let sidecarSuffix = ".meta.json"

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    public var displayName: String { "folder \(root)" }

    public func put(key: String, bytes: [UInt8], metadata: [String: String], contentType: String) throws {
        let path = try prepare(key)
        try writeSidecar(for: key, path: path, metadata: metadata, contentType: contentType)
        try wrap(key) {
            let sink = try FileSink.atomicFile(at: path)
            do {
                try bytes.withUnsafeBytes { try sink.writeAll($0) }
                try sink.finish()
            } catch {
                sink.abort(error)
                throw error
            }
        }
    }

    public func makeUpload(key: String, metadata: [String: String], contentType: String, sizeHint: Int?) throws -> ObjectUpload {
        let path = try prepare(key)
        let sink = try wrap(key) { try FileSink.atomicFile(at: path) }
        return DirectoryUpload(store: self, key: key, path: path, file: sink, metadata: metadata, contentType: contentType)
    }

    public func get(key: String, into sink: ChunkSink) throws {
        let path = try filePath(key)
        guard let file = FileHandle(forReadingAtPath: path) else {
            let error = ObjectStoreError(.notFound, store: displayName, key: key, cause: "no such file \(path)")
            sink.abort(error)
            throw error
        }
        defer { try? file.close() }
        let pool = ChunkPool(size: 2, chunkCapacity: 1 << 20)
        do {
            while true {
                let data = try file.read(upToCount: pool.chunkCapacity) ?? Data()
                if data.isEmpty { break }
                let chunk = try pool.take()
                data.withUnsafeBytes { _ = chunk.append($0) }
                try sink.write(chunk)
            }
        } catch {
            sink.abort(error)
            throw error
        }
        try sink.finish()
    }

    public func head(key: String) throws -> ObjectInfo? {
        let path = try filePath(key)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular else { return nil }
        return ObjectInfo(key: key, size: (attributes[.size] as? NSNumber)?.intValue ?? 0,
                          lastModified: attributes[.modificationDate] as? Date ?? Date(timeIntervalSince1970: 0),
                          etag: nil, metadata: readSidecar(path)?.metadata ?? [:])
    }

    public func list(prefix: String) throws -> [ObjectInfo] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [ObjectInfo] = []
        while let relative = walker.nextObject() as? String {
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            if !relative.hasPrefix(prefix) || name.hasSuffix(Self.sidecarSuffix) || Self.isTemporary(name) { continue }
            if let info = try head(key: relative) { found.append(info) }
        }
        return found.sorted { $0.key < $1.key }
    }

    public func delete(keys: [String]) throws {
        for key in keys {
            let path = try filePath(key)
            for file in [path, path + Self.sidecarSuffix] where unlink(file) != 0 && errno != ENOENT {
                throw ObjectStoreError(.localFailure, store: displayName, key: key,
                                       cause: "cannot delete \(file): \(String(cString: strerror(errno)))")
            }
            removeEmptyFolders(above: path)
        }
    }

    // MARK: Internals

    struct Sidecar: Codable {
        var contentType: String
        var metadata: [String: String]
    }

    func writeSidecar(for key: String, path: String, metadata: [String: String], contentType: String) throws {
        let json = try JSONEncoder().encode(Sidecar(contentType: contentType, metadata: metadata))
        try wrap(key) {
            let sink = try FileSink.atomicFile(at: path + Self.sidecarSuffix)
            try json.withUnsafeBytes { try sink.writeAll($0) }
            try sink.finish()
        }
    }

    private func readSidecar(_ path: String) -> Sidecar? {
        guard let data = FileManager.default.contents(atPath: path + Self.sidecarSuffix) else { return nil }
        return try? JSONDecoder().decode(Sidecar.self, from: data)
    }

    /// FileSink's temporaries are `.<name>.tmp-<pid>`.
    private static func isTemporary(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(".tmp-") }

    func filePath(_ key: String) throws -> String {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        let bad = key.isEmpty || key.hasSuffix(Self.sidecarSuffix)
            || segments.contains { $0.isEmpty || $0 == "." || $0 == ".." }
        if bad {
            throw ObjectStoreError(.invalidArgument, store: displayName, key: key,
                                   cause: "a folder store takes keys of non-empty '/'-separated names other than '.' and '..', not ending in \(Self.sidecarSuffix)")
        }
        return "\(root)/\(key)"
    }

    /// The file path for `key`, with its folder created.
    private func prepare(_ key: String) throws -> String {
        let path = try filePath(key)
        let folder = (path as NSString).deletingLastPathComponent
        try wrap(key) { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        return path
    }

    private func removeEmptyFolders(above path: String) {
        var folder = (path as NSString).deletingLastPathComponent
        while folder.count > root.count, folder.hasPrefix(root + "/"), rmdir(folder) == 0 {
            folder = (folder as NSString).deletingLastPathComponent
        }
    }

    /// Re-throws file errors as `ObjectStoreError`s naming this store and the key.
    func wrap<T>(_ key: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw ObjectStoreError(.localFailure, store: displayName, key: key, cause: "\(error)")
        }
    }
}
