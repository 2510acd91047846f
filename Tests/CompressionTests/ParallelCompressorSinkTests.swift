import ChunkIO
import Compression
import Foundation
import Testing
import TestSupport

/// A codec that copies each chunk, after a delay that makes later chunks finish before earlier
/// ones on other threads, and fails on one chunk when told to: what the sink adds (ordering,
/// the combined checksum, the end of a failure) shows without any compression format.
private final class IdentityCodec: ChunkCodec, @unchecked Sendable {
    static let name = "identity"
    private let failOnPrefix: UInt8?
    private(set) var calls: [Int] = []

    init(failOnPrefix: UInt8? = nil) { self.failOnPrefix = failOnPrefix }

    func outputBound(forInput inputCapacity: Int) -> Int { inputCapacity }

    func compress(_ input: Chunk, into output: Chunk) throws -> (count: Int, crc32: UInt32?) {
        calls.append(input.count)
        let first = input.count > 0 ? input.base.load(as: UInt8.self) : 0
        if first == failOnPrefix { throw CodecFailure() }
        // Chunks starting with a low byte take longest, so the threads finish out of order.
        usleep(UInt32(256 - Int(first)) * 20)
        output.base.copyMemory(from: input.base, byteCount: input.count)
        return (input.count, nil)
    }
}

private struct CodecFailure: Error, CustomStringConvertible {
    var description: String { "codec broke" }
}

@Suite("Parallel compressor, any codec")
struct ParallelCompressorSinkTests {
    /// Bytes whose every 4 KiB chunk starts with a different, shuffled first byte.
    private func shuffledChunks(_ count: Int, size: Int = 4096) -> [UInt8] {
        var out: [UInt8] = []
        for index in 0..<count {
            let first = UInt8((index * 97) % 251)
            out += [first] + (1..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
        }
        return out
    }

    @Test("frames from several threads reach the downstream in order, with the CRC-32 of the whole input",
          arguments: [1, 3])
    func keepsOrder(threads: Int) throws {
        let input = shuffledChunks(60)
        let collected = CollectingSink()
        let crc = CRC32Sink(downstream: collected)
        let sink = try ParallelCompressorSink(downstream: crc, threads: threads, chunkCapacity: 4096) { IdentityCodec() }
        try feed(input, chunkSize: 4096, into: sink)
        #expect(collected.bytes == input)
        #expect(collected.finished && !collected.aborted)
        #expect(sink.bytesIn == input.count && sink.bytesOut == input.count)
        #expect(sink.contentCRC32 == crc.value)
    }

    @Test("an empty stream asks the codec once, for an empty frame")
    func emptyStream() throws {
        let codec = IdentityCodec()
        let collected = CollectingSink()
        let sink = try ParallelCompressorSink(downstream: collected, threads: 1, chunkCapacity: 4096) { codec }
        try sink.finish()
        #expect(codec.calls == [0])
        #expect(collected.finished && collected.bytes.isEmpty)
        #expect(sink.contentCRC32 == 0)
    }

    @Test("a codec failure ends the pipeline, named as the compressing stage, and aborts the downstream once")
    func codecFailure() throws {
        let input = shuffledChunks(40)
        let failAt = input[4096 * 7]
        let collected = CollectingSink()
        let sink = try ParallelCompressorSink(downstream: collected, threads: 2, chunkCapacity: 4096) {
            IdentityCodec(failOnPrefix: failAt)
        }
        let outcome = driveBounded(sink, bytes: 0, input: input, chunkSize: 4096)
        #expect(outcome.returned, "the codec failure hung the producer")
        #expect(outcome.error == "compressing: codec broke")
        #expect(collected.aborted && !collected.finished)
        #expect(collected.bytes.count <= 4096 * 7)
        #expect(collected.bytes[...] == input[..<collected.bytes.count])
    }

    @Test("a codec factory that throws fails the sink's init")
    func factoryFails() {
        #expect(throws: CodecFailure.self) {
            _ = try ParallelCompressorSink<IdentityCodec>(downstream: DiscardSink(), threads: 2) { throw CodecFailure() }
        }
    }
}
