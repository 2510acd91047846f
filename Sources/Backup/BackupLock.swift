#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One backup per database at a time: an advisory `flock` on a file beside the database (or in
/// the temp folder when that one is read-only). The lock dies with the process, so a crash
/// never leaves a stale lock behind.
package final class BackupLock {
    private let fd: Int32
    package let path: String

    package struct Busy: Error, CustomStringConvertible {
        package let database: String
        package let holder: String
        package var description: String {
            "another backup of \(database) is running (\(holder)); wait for it to finish and try again"
        }
    }

    package init(database: String) throws {
        let absolute = (database as NSString).standardizingPath
        let beside = absolute + ".backstream-lock"
        var path = beside
        var fd = try Self.openLockFile(beside)
        if fd < 0 {
            let name = absolute.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? String($0) : "_" }.joined()
            path = NSTemporaryDirectory() + "/backstream-\(name.suffix(100)).lock"
            fd = try Self.openLockFile(path)
        }
        guard fd >= 0 else {
            throw BackupError.busy(database: database, holder: "cannot create a lock file: \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var buffer = [UInt8](repeating: 0, count: 200)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let holder = n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : "unknown process"
            throw BackupError.busy(database: database, holder: holder.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let note = "pid \(getpid()), started \(BackupMetadata.iso8601(Date()))"
        _ = ftruncate(fd, 0)
        _ = note.withCString { pwrite(fd, $0, strlen($0), 0) }
        self.fd = fd
        self.path = path
    }

    /// Opens (creating) a lock file without following a symlink at its name: a link planted there
    /// (the fallback lives in the shared temp folder) would make the note below overwrite its
    /// target. O_NONBLOCK keeps a FIFO planted there from blocking the open. Returns -1 when the
    /// file cannot be created (a read-only folder), throws when what is there is not a file.
    private static func openLockFile(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        if fd < 0 {
            if errno == ELOOP {
                throw BackupError.unsafeLockFile(path: path, reason: "it is a symbolic link")
            }
            return -1
        }
        var info = stat()
        if fstat(fd, &info) != 0 || (info.st_mode & S_IFMT) != S_IFREG {
            close(fd)
            throw BackupError.unsafeLockFile(path: path, reason: "it is not a regular file")
        }
        return fd
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
