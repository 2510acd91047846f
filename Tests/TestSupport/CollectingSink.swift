import ChunkIO

/// The end of a pipeline under test: keeps every byte written to it and how it ended. With
/// `failOnChunk` it throws on that write (counting from 1), like a full disk.
public final class CollectingSink: ChunkSink, @unchecked Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var chunks = 0
    public private(set) var finished = false
    /// What `abort` was given, as text.
    public private(set) var abortReason: String?
    public var aborted: Bool { abortReason != nil }
    private let failOnChunk: Int?

    public init(failOnChunk: Int? = nil) { self.failOnChunk = failOnChunk }

    public func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        chunks += 1
        if chunks == failOnChunk { throw SinkFailure() }
        bytes.append(contentsOf: chunk.bytes)
    }

    public func finish() throws { finished = true }
    public func abort(_ error: Error) { abortReason = "\(error)" }
}

/// The error a `CollectingSink(failOnChunk:)` throws.
public struct SinkFailure: Error, CustomStringConvertible {
    public var description: String { "disk full" }
}
