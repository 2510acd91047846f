import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// An open folder inside a `DirectoryStore`'s root. Every file operation goes through `*at()`
/// calls on such descriptors, each opened with `O_NOFOLLOW` from its parent: a path is never
/// resolved again by name, so a symbolic link swapped in between two checks is not followed.
final class Folder: @unchecked Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    enum Kind { case missing, regular, directory, symlink, other }

    /// What `name` in this folder is, without following a link; with its `stat` when it exists.
    func kind(of name: String) -> (Kind, stat) {
        var info = stat()
        guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return (.missing, info) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return (.regular, info)
        case S_IFDIR: return (.directory, info)
        case S_IFLNK: return (.symlink, info)
        default: return (.other, info)
        }
    }

    /// Flushes the folder's entries (a rename is durable only once its folder is).
    func sync() -> Int32 { Syscall.failure(of: { fsync(fd) })?.errno ?? 0 }
}

/// The open folders from the root down to the one that holds a key's file.
struct FolderChain {
    /// Root first; never empty.
    let folders: [Folder]
    /// The name of each folder after the root, in its parent.
    let names: [String]
    var last: Folder { folders[folders.count - 1] }
}

func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// A new file written under a unique temporary name beside its target and renamed over it by
/// `commit`, so a reader sees the old file, the whole new one, or neither.
final class AtomicFile {
    let folder: Folder
    let name: String
    let temporaryName: String
    private var fd: Int32
    private let store: String
    private let key: String

    /// `.<name>.tmp-<pid>-<random>`: unique, so `O_EXCL` never meets an old one.
    static func temporaryName(for name: String) -> String {
        ".\(name)\(DirectoryStore.temporaryMarker)\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    }

    init(in folder: Folder, name: String, store: String, key: String) throws {
        var attempts = 0
        while true {
            let temp = Self.temporaryName(for: name)
            // O_EXCL|O_NOFOLLOW: never write through a link or into a file that someone else made.
            let fd = openat(folder.fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd >= 0 {
                self.fd = fd
                temporaryName = temp
                break
            }
            let code = errno
            attempts += 1
            if code != EEXIST || attempts >= 8 {
                throw ObjectStoreError(.localFailure, store: store, key: key,
                                       cause: "cannot create a temporary file beside it: \(errnoText(code)); check the folder's permissions and free space")
                    .at(.writeFile)
            }
        }
        self.folder = folder
        self.name = name
        self.store = store
        self.key = key
    }

    deinit { discard() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.baseAddress != nil else { return }
        guard fd >= 0 else {
            throw ObjectStoreError(.aborted, store: store, key: key, cause: "the file was already closed")
        }
        do {
            try Syscall.writeAll(fd, bytes)
        } catch {
            let code = error.errno
            throw ObjectStoreError(.localFailure, store: store, key: key,
                                   cause: "cannot write: \(errnoText(code))\(code == ENOSPC ? "; free some space on the disk" : "")")
                .at(.writeFile)
        }
    }

    /// fsync, rename over `name`, fsync the folder. On failure before the rename the
    /// temporary file is removed; a failure of the folder's fsync leaves the renamed file.
    /// `exclusive` links instead of renaming, so an existing `name` is never replaced
    /// (`.preconditionFailed`). Returns the file's `stat` as committed (its ETag).
    @discardableResult
    func commit(exclusive: Bool = false) throws -> stat {
        guard fd >= 0 else {
            throw ObjectStoreError(.aborted, store: store, key: key, cause: "the file was already closed")
        }
        if let code = Syscall.failure(of: { fsync(fd) })?.errno {
            discard()
            throw ObjectStoreError(.localFailure, store: store, key: key, cause: "fsync failed: \(errnoText(code))").at(.syncFile)
        }
        var info = stat()
        fstat(fd, &info)
        let closed = close(fd)
        let closeCode = errno
        fd = -1
        if closed != 0 && closeCode != EINTR {
            unlinkat(folder.fd, temporaryName, 0)
            throw ObjectStoreError(.localFailure, store: store, key: key, cause: "close failed: \(errnoText(closeCode))").at(.syncFile)
        }
        if exclusive {
            // link() fails with EEXIST instead of replacing; the temporary name is then dropped.
            let linked = Syscall.failure(of: { linkat(folder.fd, temporaryName, folder.fd, name, 0) })?.errno
            unlinkat(folder.fd, temporaryName, 0)
            if linked == EEXIST {
                throw ObjectStoreError(.preconditionFailed, store: store, key: key, cause: "the object already exists").at(.renameFile)
            }
            if let code = linked {
                throw ObjectStoreError(.localFailure, store: store, key: key, cause: "link failed: \(errnoText(code))").at(.renameFile)
            }
        } else if let code = Syscall.failure(of: { renameat(folder.fd, temporaryName, folder.fd, name) })?.errno {
            unlinkat(folder.fd, temporaryName, 0)
            let hint = code == EISDIR || code == ENOTEMPTY || code == EEXIST ? "; a folder of that name is in the way" : ""
            throw ObjectStoreError(.localFailure, store: store, key: key, cause: "rename failed: \(errnoText(code))\(hint)")
                .at(.renameFile)
        }
        let code = folder.sync()
        if code != 0 {
            throw ObjectStoreError(.localFailure, store: store, key: key,
                                   cause: "fsync of its folder failed after the rename: \(errnoText(code)); the object may not survive a crash")
                .at(.syncFile)
        }
        return info
    }

    /// Closes and removes the temporary file; safe to call more than once.
    func discard() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlinkat(folder.fd, temporaryName, 0)
    }
}
