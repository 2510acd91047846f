import ChunkIO
import Foundation
import Testing

/// Collects what reaches it; can be told to fail on the n-th chunk.
final class RecordingSink: ChunkSink, @unchecked Sendable {
    var bytes: [UInt8] = []
    var finished = false
    var aborted: String?
    let failOnChunk: Int?
    private var chunks = 0

    init(failOnChunk: Int? = nil) { self.failOnChunk = failOnChunk }

    func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        chunks += 1
        if chunks == failOnChunk { throw TestError("disk full") }
        bytes.append(contentsOf: chunk.bytes)
    }
    func finish() throws { finished = true }
    func abort(_ error: Error) { aborted = "\(error)" }
}

/// Writes `count` chunks of different lengths and contents; returns the bytes written.
func writeNumbered(_ count: Int, to sink: ChunkSink, pool: ChunkPool) throws -> [UInt8] {
    var expected: [UInt8] = []
    for index in 0..<count {
        let chunk = try pool.take()
        let bytes = [UInt8](repeating: UInt8(index & 0xFF), count: 1 + index % pool.chunkCapacity)
        bytes.withUnsafeBytes { _ = chunk.append($0) }
        expected += bytes
        try sink.write(chunk)
    }
    return expected
}

struct ThreadedSinkTests {
    @Test func passesChunksOnInOrder() throws {
        let downstream = RecordingSink()
        let sink = ThreadedSink(downstream: downstream, depth: 2)
        let expected = try writeNumbered(200, to: sink, pool: ChunkPool(size: 3, chunkCapacity: 64))
        try sink.finish()
        #expect(downstream.bytes == expected && downstream.finished && downstream.aborted == nil)
    }

    @Test func aDownstreamFailureStopsTheWriterAndAbortsDownstream() throws {
        let downstream = RecordingSink(failOnChunk: 5)
        let sink = ThreadedSink(downstream: downstream, depth: 2)
        let pool = ChunkPool(size: 3, chunkCapacity: 64)
        // The failure surfaces on a later write or, at the latest, on finish.
        let error = try #require(throws: TestError.self) {
            _ = try writeNumbered(100, to: sink, pool: pool)
            try sink.finish()
        }
        #expect(error.description == "disk full")
        sink.abort(error)
        #expect(!downstream.finished && downstream.aborted == "disk full")
    }
}
