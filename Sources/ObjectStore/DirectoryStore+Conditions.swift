import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

// Conditional writes of a folder store. Conditional writers (and metadata rewrites pinned to an
// ETag) take an exclusive flock on the object's folder, check the condition and write under
// it, so two of them — threads or processes — never both pass the check for one key. An
// `.ifAbsent` object is moreover linked into place, never renamed over an existing file.
extension DirectoryStore {
    /// A file's ETag: inode, size and modification time in nanoseconds. Every write of an
    /// object is a new file renamed into place, so any rewrite changes it.
    static func etag(_ info: stat) -> String {
        let nanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        return "\"\(String(info.st_ino, radix: 16))-\(String(info.st_size, radix: 16))-\(String(nanoseconds, radix: 16))\""
    }

    /// ETags compare with or without their quotes (a caller may have stripped them).
    static func sameETag(_ a: String, _ b: String) -> Bool {
        func bare(_ tag: String) -> Substring {
            tag.count >= 2 && tag.hasPrefix("\"") && tag.hasSuffix("\"") ? tag.dropFirst().dropLast() : Substring(tag)
        }
        return bare(a) == bare(b)
    }

    func preconditionFailed(_ key: String, _ cause: String) -> ObjectStoreError {
        ObjectStoreError(.preconditionFailed, store: displayName, key: key, cause: cause)
    }

    /// Runs `body` holding an exclusive flock on `folder` when `exclusive`, else just runs it.
    func withFolderLock<T>(_ folder: Folder, key: String, exclusive: Bool, _ body: () throws -> T) throws -> T {
        guard exclusive else { return try body() }
        if let code = Syscall.failure(of: { flock(folder.fd, LOCK_EX) })?.errno {
            throw ObjectStoreError(.localFailure, store: displayName, key: key, cause: "cannot lock its folder: \(errnoText(code))")
        }
        defer { flock(folder.fd, LOCK_UN) }
        return try body()
    }

    /// Throws `.preconditionFailed` unless `condition` holds for `name` in `folder` now.
    /// The caller holds the folder's lock.
    func check(_ condition: WriteCondition, folder: Folder, name: String, key: String) throws {
        let (kind, info) = folder.kind(of: name)
        switch condition {
        case .none: return
        case .ifAbsent:
            if kind == .symlink { throw linkRefused(key, "it is a symbolic link") }
            if kind != .missing { throw preconditionFailed(key, "the object already exists") }
        case .ifMatch(let expected):
            guard kind == .regular else {
                if kind == .symlink { throw linkRefused(key, "it is a symbolic link") }
                throw preconditionFailed(key, "the object no longer exists (expected ETag \(expected))")
            }
            let current = Self.etag(info)
            if !Self.sameETag(current, expected) {
                throw preconditionFailed(key, "its ETag is \(current), not \(expected)")
            }
        }
    }
}
