import Support
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes chunks to a file descriptor. A file output goes to a temporary name beside the target
/// and is renamed into place only by `finish`, so a failed or interrupted run leaves nothing.
package final class FileSink: ChunkSink {
    private var fd: Int32
    private let displayPath: String
    private var temporaryPath: String?
    private let finalPath: String?
    package private(set) var bytesWritten: Int = 0
    /// Flush to stable storage before the rename (and the folder after it), as pg_dump does by
    /// default; off for throwaway outputs.
    package var synchronous = true

    private init(fd: Int32, displayPath: String, temporaryPath: String?, finalPath: String?) {
        self.fd = fd
        self.displayPath = displayPath
        self.temporaryPath = temporaryPath
        self.finalPath = finalPath
    }

    /// Standard output; never closed by the sink.
    package static func standardOutput() -> FileSink {
        FileSink(fd: 1, displayPath: "standard output", temporaryPath: nil, finalPath: nil)
    }

    /// A file at `path`, created through a new temporary sibling `.<name>.tmp-<pid>-<random>`.
    ///
    /// The temporary file is created with `O_EXCL | O_NOFOLLOW`: whatever already sits at that
    /// name (a symlink planted in a shared folder, a crashed run's leftover) is never opened,
    /// truncated or written through; another name is tried instead.
    package static func atomicFile(at path: String) throws -> FileSink {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else {
            throw OutputError(code: .cannotCreate, path: path, reason: "the path names a folder, not a file")
        }
        var lastError: Int32 = EEXIST
        for _ in 0..<16 {
            let temp = (dir.isEmpty ? "" : dir + "/") + ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            do {
                let fd = try Syscall.retrying { open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644) }
                return FileSink(fd: fd, displayPath: path, temporaryPath: temp, finalPath: path)
            } catch {
                lastError = error.errno
                if lastError != EEXIST { break }
            }
        }
        throw OutputError(code: .cannotCreate, path: path, reason: String(cString: strerror(lastError)))
    }

    package func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        try writeAll(chunk.bytes)
    }

    package func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        do {
            try Syscall.writeAll(fd, bytes) { bytesWritten += $0 }
        } catch {
            if error.errno == EPIPE { throw OutputError(code: .brokenPipe, path: displayPath, reason: "EPIPE") }
            throw OutputError(code: .writeFailed, path: displayPath, reason: error.message)
        }
    }

    package func finish() throws {
        guard let temporaryPath, let finalPath else { return }
        if synchronous, let failure = Syscall.failure(of: { fsync(fd) }) {
            let reason = failure.message
            abort(OutputError(code: .writeFailed, path: displayPath, reason: reason))
            throw OutputError(code: .writeFailed, path: displayPath, reason: reason)
        }
        close(fd)
        fd = -1
        if let failure = Syscall.failure(of: { rename(temporaryPath, finalPath) }) {
            let reason = failure.message
            unlink(temporaryPath)
            self.temporaryPath = nil
            throw OutputError(code: .cannotRename, path: finalPath, reason: reason)
        }
        // Renamed into place: a later abort must not unlink a name someone else may now use.
        self.temporaryPath = nil
        if synchronous {
            let slash = finalPath.lastIndex(of: "/")
            let dir = slash.map { String(finalPath[..<$0]) } ?? "."
            let dirFD = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dirFD >= 0 {
                _ = fsync(dirFD)
                close(dirFD)
            }
        }
    }

    package func abort(_ error: Error) {
        guard let temporaryPath else { return }
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
        self.temporaryPath = nil
    }

    deinit {
        if finalPath != nil, fd >= 0 { close(fd) }
    }
}
