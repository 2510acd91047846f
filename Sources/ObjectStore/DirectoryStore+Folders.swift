import ChunkIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Opening the folders on the way to a key without following links.
extension DirectoryStore {
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
    func openForReading(_ key: String) throws -> Int32 {
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
}
