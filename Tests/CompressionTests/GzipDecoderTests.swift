import ChunkIO
import Compression
import Foundation
import Testing
import TestSupport

@Suite("Streaming gzip decoder")
struct GzipDecoderTests {
    @Test("reads gzip's single member and concatenated members", arguments: [1, 7, 65536])
    func decodes(feedSize: Int) throws {
        let input = sampleText(700_000)
        let single = try filter(input, through: "gzip -6 -c")
        let double = try filter(input, through: "gzip -1 -c") + single
        for (compressed, expected) in [(single, input), (double, input + input)] {
            let out = CollectingSink()
            let decoder = try GzipDecoder(downstream: out, name: "test.gz", chunkCapacity: 100_000)
            try decodeInPieces(compressed, feedSize: feedSize, decoder.decode)
            try decoder.finish()
            #expect(out.bytes == expected)
            #expect(out.finished)
        }
    }

    @Test("a truncated stream is an error, not a short result")
    func truncated() throws {
        let compressed = try filter(sampleText(200_000), through: "gzip -c")
        let decoder = try GzipDecoder(downstream: CollectingSink(), name: "cut.gz")
        try compressed.prefix(compressed.count - 9).withUnsafeBytes { try decoder.decode($0) }
        #expect(throws: CompressionError.self) { try decoder.finish() }
    }

    @Test("a flipped byte is detected")
    func corrupt() throws {
        var compressed = try filter(sampleText(200_000), through: "gzip -c")
        compressed[compressed.count / 2] ^= 0x5A
        let decoder = try GzipDecoder(downstream: CollectingSink(), name: "bad.gz")
        #expect(throws: CompressionError.self) {
            try compressed.withUnsafeBytes { try decoder.decode($0) }
            try decoder.finish()
        }
    }
}
