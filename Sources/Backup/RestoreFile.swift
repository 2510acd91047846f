#if canImport(Glibc)
import Glibc
#endif
import ChunkIO
import Foundation

/// The file a restore builds before it replaces the target: created by this process, never
/// through a symbolic link, synced before the rename and the folder after it.
enum RestoreFile {
    /// Creates `.NAME.restore-PID-RANDOM` beside `target` with O_CREAT|O_EXCL|O_NOFOLLOW, after
    /// removing what killed restores of the same target left behind.
    static func createTemporary(beside target: String) throws -> String {
        let folder = (target as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        let prefix = ".\((target as NSString).lastPathComponent).restore-"
        removeAbandoned(in: directory, prefix: prefix)
        for _ in 0..<8 {
            let path = "\(directory)/\(prefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let fd = open(path, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0o644)
            if fd >= 0 {
                close(fd)
                return path
            }
            if errno != EEXIST { break }
        }
        throw OutputError(code: .cannotCreate, path: directory, reason: String(cString: strerror(errno)))
    }

    /// A temporary file whose process is gone belongs to a restore that was killed.
    static func removeAbandoned(in directory: String, prefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH { remove("\(directory)/\(name)") }
        }
    }

    static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw OutputError(code: .writeFailed, path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw OutputError(code: .writeFailed, path: path, reason: String(cString: strerror(errno))) }
    }

    static func syncFolder(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    static func remove(_ path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(path + suffix) }
    }
}
