import ChunkIO
import Compression
import Foundation
import Testing
import TestSupport

/// Decodes `compressed` fed `feedSize` bytes at a time.
func zstdDecode(_ compressed: [UInt8], feedSize: Int = 1 << 20) throws -> (bytes: [UInt8], frames: Int) {
    let out = CollectingSink()
    let decoder = try ZstdDecoder(downstream: out, name: "test.zst", chunkCapacity: 100_000)
    try decodeInPieces(compressed, feedSize: feedSize, decoder.decode)
    try decoder.finish()
    #expect(out.finished)
    return (out.bytes, decoder.frames)
}

@Suite("zstd")
struct ZstdTests {
    @Test("zstd -d reads the output back exactly, and the CRC-32 is the SQL's", arguments: [(1, 1), (3, 2), (19, 2)])
    func zstdReadsIt(level: Int, threads: Int) throws {
        let input = sampleText(1_500_000, seed: UInt64(level * 10 + threads))
        let out = CollectingSink()
        let sink = try CompressionMethod.zstd.makeSink(downstream: out, level: level, threads: threads, chunkCapacity: 256 * 1024)
        try feed(input, chunkSize: 256 * 1024, into: sink)
        #expect(out.finished)
        #expect(sink.bytesOut == out.bytes.count)
        #expect(out.bytes.count < input.count / 2)
        #expect(try filter(out.bytes, through: "zstd -d -c") == input)
        let (decoded, frames) = try zstdDecode(out.bytes)
        #expect(decoded == input)
        #expect(frames == 1, "libzstd's workers write one frame")
        let crc = try filter(input, through: "python3 -c 'import zlib,sys; print(zlib.crc32(sys.stdin.buffer.read()))'")
        #expect(String(decoding: crc, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == String(sink.contentCRC32))
    }

    @Test("an empty stream is still one valid zstd frame")
    func emptyStream() throws {
        let out = CollectingSink()
        let sink = try CompressionMethod.zstd.makeSink(downstream: out, level: nil, threads: 2, chunkCapacity: 64 * 1024)
        try sink.finish()
        #expect(!out.bytes.isEmpty)
        #expect(try filter(out.bytes, through: "zstd -d -c").isEmpty)
        #expect(try zstdDecode(out.bytes).bytes.isEmpty)
        #expect(sink.contentCRC32 == 0)
    }

    @Test("levels outside 1–19 are refused, naming the range")
    func levels() throws {
        for level in [0, 20] {
            #expect(throws: CompressionError.self) { try ZstdStreamSink(downstream: DiscardSink(), level: level, threads: 1) }
            do {
                _ = try CompressionMethod.zstd.makeSink(downstream: DiscardSink(), level: level, threads: 1, chunkCapacity: 1024)
                Issue.record("level \(level) was accepted")
            } catch let error as CompressionError {
                #expect(error.code == .invalidLevel)
                #expect(error.message.contains("use 1 (fastest) to 19 (smallest)"))
            }
        }
        #expect(try CompressionMethod.gzip.checkedLevel(nil) == 4)
        #expect(try CompressionMethod.zstd.checkedLevel(nil) == 2)
        #expect(throws: CompressionError.self) { try CompressionMethod.gzip.checkedLevel(13) }
    }

    @Test("the decoder reads zstd's single frame and concatenated frames in any feed size", arguments: [1, 7, 65536])
    func decodes(feedSize: Int) throws {
        let input = sampleText(700_000)
        let single = try filter(input, through: "zstd -19 -c")
        let double = try filter(input, through: "zstd -1 -c") + single
        let one = try zstdDecode(single, feedSize: feedSize)
        #expect(one.bytes == input)
        #expect(one.frames == 1)
        let two = try zstdDecode(double, feedSize: feedSize)
        #expect(two.bytes == input + input)
        #expect(two.frames == 2)
    }

    @Test("a truncated stream is an error that says so, not a short result")
    func truncated() throws {
        let compressed = try filter(sampleText(200_000), through: "zstd -c")
        for cut in [5, compressed.count / 2, compressed.count - 3] {
            let decoder = try ZstdDecoder(downstream: CollectingSink(), name: "cut.zst")
            try compressed.prefix(cut).withUnsafeBytes { try decoder.decode($0) }
            do {
                try decoder.finish()
                Issue.record("a stream cut at \(cut) of \(compressed.count) bytes was accepted")
            } catch let error as CompressionError {
                #expect(error.code == .truncated)
                #expect(error.message.contains("cut.zst ends in the middle of its zstd data"))
            }
        }
    }

    @Test("a flipped byte is detected by the frame's checksum or structure")
    func corrupt() throws {
        var compressed = try filter(sampleText(200_000), through: "zstd -c")
        compressed[compressed.count / 2] ^= 0x5A
        let decoder = try ZstdDecoder(downstream: CollectingSink(), name: "bad.zst")
        do {
            try compressed.withUnsafeBytes { try decoder.decode($0) }
            try decoder.finish()
            Issue.record("a damaged stream was accepted")
        } catch let error as CompressionError {
            #expect(error.code == .corrupt)
            #expect(error.message.contains("bad.zst is not valid zstd"))
        }
    }

    @Test("a frame asking for a window beyond the memory bound is refused")
    func hugeWindow() throws {
        let compressed = try filter(sampleText(300_000), through: "zstd --ultra -22 --long=27 -c")
        do {
            _ = try zstdDecode(compressed)
            Issue.record("a 128 MiB window was accepted")
        } catch let error as CompressionError {
            #expect(error.message.contains("needs a zstd window larger than 8 MiB"), "\(error)")
        }
    }
}
