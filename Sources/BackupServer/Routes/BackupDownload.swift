import Backup
import Compression
import Foundation
import Hummingbird
import Logging
import ObjectStore
import Synchronization

/// A backup streamed to the client: the store's read runs on a thread of its own, and a
/// client that stops reading for `stallSeconds` is cut off.
struct BackupDownload {
    let entry: BackupEntry
    let store: any ObjectStore
    let stallSeconds: Double
    let logger: Logger

    func response(close: @escaping @Sendable () -> Void) -> Response {
        let store = store, key = entry.info.key, log = logger, stall = stallSeconds
        let stream = DownloadStream()
        let name = (key as NSString).lastPathComponent.replacingOccurrences(of: "\"", with: "")
        let headers: HTTPFields = [
            .contentType: entry.key.contentType,
            .contentDisposition: "attachment; filename=\"\(name)\"",
            .cacheControl: "no-store",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: entry.info.size) { writer in
            // A download runs on a thread of its own, never on the pool the API's work shares.
            let producer = Task {
                do {
                    try await BlockingWork.run(stackSize: 512 * 1024) { try store.get(key: key, into: stream) }
                } catch {
                    stream.abort(error)
                    log.error("download failed", metadata: ["key": "\(key)", "error": "\(error)"])
                }
            }
            // A client that stops reading for `stall` seconds is cut off: the connection is
            // closed (the pending write fails) and the download thread released.
            let watch = ProgressWatch()
            let watchdog = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    if watch.idleSeconds > stall {
                        log.notice("download stalled; closing the connection", metadata: ["key": "\(key)", "stall_s": "\(stall)"])
                        stream.stop()
                        close()
                        return
                    }
                }
            }
            defer { watchdog.cancel() }
            do {
                for try await buffer in stream.buffers {
                    try await writer.write(buffer)
                    watch.touch()
                    stream.consumed()
                }
            } catch {
                // The client went away or the download failed: release the download thread.
                stream.stop()
                producer.cancel()
                throw error
            }
            try await writer.finish(nil)
        })
    }
}

/// When a download last made progress, for its stall timeout.
final class ProgressWatch: Sendable {
    private let last = Atomic<Int64>(ProgressWatch.now())
    private static func now() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }
    func touch() { last.store(Self.now(), ordering: .relaxed) }
    var idleSeconds: Double { Double(Self.now() - last.load(ordering: .relaxed)) / 1e9 }
}
