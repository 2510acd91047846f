#if canImport(Glibc)
import Glibc
#endif
import ChunkIO
import Foundation
import ObjectStore
import Support

/// `backstream upload`: any byte stream (a file, a pipe) to one object, through the same
/// bounded multipart uploader as backups.
package enum UploadJob {
    package struct Outcome: Sendable {
        package var key: String
        package var bytes: Int
        package var seconds: Double
    }

    /// Reads `fd` to its end and stores it at `key`; on any failure the upload is aborted.
    package static func run(fd: Int32, name: String, store: any ObjectStore, key: String, contentType: String,
                           sizeHint: Int?, cancellation: Cancellation? = nil,
                           progress: ProgressSink.Report? = nil) throws -> Outcome {
        let started = Date()
        let object: ObjectUpload
        do {
            object = try store.makeUpload(key: key, metadata: [:], contentType: contentType, sizeHint: sizeHint)
        } catch {
            throw StageError.named("uploading", error)
        }
        let upload = ProgressSink.counting(StageSink("uploading", downstream: object, cancellation: cancellation), progress)
        let pool = ChunkPool(size: 2, chunkCapacity: 1 << 20)
        var total = 0
        do {
            while true {
                if cancellation?.isCancelled == true { throw CancelledError() }
                let chunk = try pool.take()
                let n = read(fd, chunk.base, chunk.capacity)
                if n < 0 {
                    chunk.recycle()
                    if errno == EINTR { continue }
                    throw StageError(stage: "reading \(name)",
                                     underlying: BackupError.cannotRead(name, reason: String(cString: strerror(errno))))
                }
                if n == 0 {
                    chunk.recycle()
                    break
                }
                chunk.count = n
                total += n
                try upload.write(chunk)
            }
            try upload.finish()
        } catch {
            upload.abort(error)
            throw error
        }
        return Outcome(key: key, bytes: total, seconds: Date().timeIntervalSince(started))
    }
}
