import ChunkIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Walking the folders under a prefix, and the temporaries a killed run left.
extension DirectoryStore {
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

    func walk(_ folder: Folder, folderKey: String, prefix: String,
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

    func entries(of folder: Folder, folderKey: String) throws -> [String] {
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
    package func listPendingUploads(prefix: String) throws -> [PendingMultipartUpload] {
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
    package func abortStaleUploads(prefix: String, olderThan age: TimeInterval, now: Date = Date()) throws -> [PendingMultipartUpload] {
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
