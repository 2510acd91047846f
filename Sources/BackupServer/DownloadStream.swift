import ChunkIO
import Dispatch
import Hummingbird
import Synchronization

/// Bridges a store's blocking `get(key:into:)` to an HTTP response body: the download thread
/// writes chunks, the response writer awaits them. At most `window` buffers are in flight, so
/// a slow client slows the download instead of filling memory; a client that goes away makes
/// the next `write` throw, which stops the download.
final class DownloadStream: ChunkSink, Sendable {
    let buffers: AsyncThrowingStream<ByteBuffer, any Error>
    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private let credits: DispatchSemaphore
    private let stopped = Atomic<Bool>(false)

    struct ClientGone: Error, CustomStringConvertible {
        var description: String { "the client closed the download" }
    }

    init(window: Int = 4) {
        (buffers, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self, throwing: (any Error).self)
        // Created at 0 and then raised: libdispatch traps when a semaphore is released with a
        // value below its initial one, which an abandoned download would leave.
        credits = DispatchSemaphore(value: 0)
        for _ in 0..<max(1, window) { credits.signal() }
        continuation.onTermination = { [weak self] _ in self?.stop() }
    }

    /// Stops the download thread at its next chunk (the response could not be written).
    func stop() {
        stopped.store(true, ordering: .relaxed)
        credits.signal()
    }

    /// The consumer calls this after writing each buffer to the client.
    func consumed() { credits.signal() }

    func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        credits.wait()
        if stopped.load(ordering: .relaxed) {
            credits.signal()
            throw ClientGone()
        }
        continuation.yield(ByteBuffer(bytes: chunk.bytes))
    }

    func finish() throws { continuation.finish() }

    func abort(_ error: any Error) { continuation.finish(throwing: error) }
}
