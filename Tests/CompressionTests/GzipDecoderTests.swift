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

    /// Backstream's own members (length-declaring), compressed from `input` in `chunk`-byte chunks.
    static func ours(_ input: [UInt8], chunk: Int = 64 * 1024) throws -> [UInt8] {
        let out = CollectingSink()
        let sink = try GzipCompressorSink(downstream: out, level: 6, threads: 2, chunkCapacity: chunk)
        try feed(input, chunkSize: chunk, into: sink)
        return out.bytes
    }

    @Test("Backstream's members, gzip's and pigz's, mixed in one stream, decode in any feed size",
          arguments: [1, 19, 65536, 1 << 20])
    func mixedMembers(feedSize: Int) throws {
        let input = sampleText(600_000, seed: 9)
        let ours = try Self.ours(input)
        #expect(try filter(ours, through: "gzip -dc") == input, "gunzip skips the length field")
        // An empty member of gzip's is shorter than our header: the boundary logic must cope.
        let empty = try filter([], through: "gzip -c")
        let mixed = ours + empty + (try filter(input, through: "gzip -c")) + ours + (try filter(input, through: "pigz -c"))
        let out = CollectingSink()
        let decoder = try GzipDecoder(downstream: out, name: "mixed.gz", chunkCapacity: 100_000)
        try decodeInPieces(mixed, feedSize: feedSize, decoder.decode)
        try decoder.finish()
        #expect(out.bytes == input + input + input + input)
    }

    @Test("a damaged, cut or lying Backstream member fails as corrupt or truncated, never crashes")
    func damagedOwnMembers() throws {
        let ours = try Self.ours(sampleText(300_000, seed: 4))
        var flipped = ours
        flipped[ours.count / 3] ^= 0x40
        var lyingLength = ours
        lyingLength[16] &+= 7  // the declared member length
        var lyingSize = ours
        let firstEnd = Int(ours[16]) | Int(ours[17]) << 8 | Int(ours[18]) << 16
        lyingSize[firstEnd - 1] = 0x7f  // ISIZE of the first member: 2 GB
        for (label, bytes, code) in [("flipped", flipped, CompressionError.Code.corrupt),
                                     ("length", lyingLength, .corrupt), ("isize", lyingSize, .corrupt),
                                     ("cut", Array(ours.prefix(ours.count - 100)), .truncated)] {
            let decoder = try GzipDecoder(downstream: CollectingSink(), name: "bad.gz", chunkCapacity: 100_000)
            do {
                try bytes.withUnsafeBytes { try decoder.decode($0) }
                try decoder.finish()
                Issue.record("\(label): accepted")
            } catch let error as CompressionError {
                #expect(error.code == code, "\(label): \(error)")
            }
        }
    }

    @Test("two members decode at once (one on the worker), and a damaged one is named by its place",
          arguments: [0, 1, 2, 5])
    func damagedMemberIsNamed(index: Int) throws {
        let ours = try Self.ours(sampleText(600_000, seed: 11))
        var starts: [Int] = []
        var offset = 0
        while offset < ours.count {
            starts.append(offset)
            offset += Int(ours[offset + 16]) | Int(ours[offset + 17]) << 8 | Int(ours[offset + 18]) << 16
        }
        #expect(offset == ours.count && starts.count > 6)
        var damaged = ours
        damaged[starts[index] + 200] ^= 0x40
        let decoder = try GzipDecoder(downstream: CollectingSink(), name: "bad.gz", chunkCapacity: 100_000)
        let error = try #require(throws: CompressionError.self) {
            try damaged.withUnsafeBytes { try decoder.decode($0) }
            try decoder.finish()
        }
        #expect(error.code == .corrupt)
        #expect(error.description.contains("member \(index + 1) is damaged"), "\(error)")
    }
}
