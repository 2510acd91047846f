import ChunkIO
import Foundation
import Testing
import TestSupport

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
        let downstream = CollectingSink()
        let sink = ThreadedSink(downstream: downstream, depth: 2)
        let expected = try writeNumbered(200, to: sink, pool: ChunkPool(size: 3, chunkCapacity: 64))
        try sink.finish()
        #expect(downstream.bytes == expected && downstream.finished && !downstream.aborted)
    }

    @Test func aDownstreamFailureStopsTheWriterAndAbortsDownstream() throws {
        let downstream = CollectingSink(failOnChunk: 5)
        let sink = ThreadedSink(downstream: downstream, depth: 2)
        let pool = ChunkPool(size: 3, chunkCapacity: 64)
        // The failure surfaces on a later write or, at the latest, on finish.
        let error = try #require(throws: SinkFailure.self) {
            _ = try writeNumbered(100, to: sink, pool: pool)
            try sink.finish()
        }
        #expect(error.description == "disk full")
        sink.abort(error)
        #expect(!downstream.finished && downstream.abortReason == "disk full")
    }
}
