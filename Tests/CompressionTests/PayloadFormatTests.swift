import ChunkIO
import Compression
import Foundation
import Testing
import TestSupport

@Suite("Payload format sniffing")
struct PayloadFormatTests {
    func detect(_ bytes: [UInt8], atEnd: Bool) -> PayloadFormat? {
        bytes.withUnsafeBytes { PayloadFormat.detect($0, atEnd: atEnd) }
    }

    @Test("magic bytes decide, and a short prefix of a magic waits for more")
    func magic() {
        #expect(detect([0x1F, 0x8B, 0x08], atEnd: false) == .gzip)
        #expect(detect([0x28, 0xB5, 0x2F, 0xFD, 0x00], atEnd: false) == .zstd)
        #expect(detect(Array("-- Backstream SQL dump\n".utf8), atEnd: false) == .plain)
        #expect(detect([0x28, 0xB5], atEnd: false) == nil)
        #expect(detect([0x1F], atEnd: false) == nil)
        #expect(detect([0x28, 0xB5], atEnd: true) == .plain)
        #expect(detect([0x28, 0xB5, 0x2F, 0x00], atEnd: false) == .plain)
        #expect(detect([], atEnd: false) == nil)
        #expect(detect([], atEnd: true) == .plain)
    }

    @Test("the decoder reads gzip, zstd and plain text alike, fed one byte at a time or whole",
          arguments: ["gzip -c", "zstd -c", "cat"], [1, 1 << 20])
    func decodes(command: String, feedSize: Int) throws {
        let input = sampleText(300_000)
        let encoded = try filter(input, through: command)
        let out = CollectingSink()
        let decoder = PayloadDecoder(downstream: out, name: "object", chunkCapacity: 64 * 1024)
        try feed(encoded, chunkSize: feedSize, into: decoder)
        #expect(out.bytes == input)
        #expect(out.finished)
        #expect(decoder.format == ["gzip -c": .gzip, "zstd -c": .zstd, "cat": .plain][command])
    }

    @Test("an empty stream is plain (the loader says it is empty); two bytes of a magic are plain too")
    func short() throws {
        let empty = CollectingSink()
        let decoder = PayloadDecoder(downstream: empty, name: "empty")
        try decoder.finish()
        #expect(decoder.format == .plain)
        #expect(empty.finished && empty.bytes.isEmpty)

        let two = CollectingSink()
        let partial = PayloadDecoder(downstream: two, name: "two")
        try feed([0x28, 0xB5], chunkSize: 1, into: partial)
        #expect(partial.format == .plain)
        #expect(two.bytes == [0x28, 0xB5])
    }
}
