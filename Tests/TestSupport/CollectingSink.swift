import ChunkIO

/// The end of a pipeline under test: keeps every byte written to it and how it ended. With
/// `failOnChunk` it throws on that write (counting from 1), like a full disk.
package final class CollectingSink: ChunkSink, @unchecked Sendable {
    package private(set) var bytes: [UInt8] = []
    package private(set) var chunks = 0
    package private(set) var finished = false
    /// What `abort` was given, as text.
    package private(set) var abortReason: String?
    package var aborted: Bool { abortReason != nil }
    private let failOnChunk: Int?

    package init(failOnChunk: Int? = nil) { self.failOnChunk = failOnChunk }

    package func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        chunks += 1
        if chunks == failOnChunk { throw SinkFailure() }
        bytes.append(contentsOf: chunk.bytes)
    }

    package func finish() throws { finished = true }
    package func abort(_ error: Error) { abortReason = "\(error)" }
}

/// The error a `CollectingSink(failOnChunk:)` throws.
package struct SinkFailure: Error, CustomStringConvertible {
    package var description: String { "disk full" }
}
