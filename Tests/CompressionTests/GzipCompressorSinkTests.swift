import ChunkIO
import Compression
import Foundation
import Testing
import TestSupport

/// Feeds `data` through a pool of `chunkSize` chunks into `sink`.
func feed(_ data: [UInt8], chunkSize: Int, into sink: ChunkSink) throws {
    let pool = ChunkPool(size: 3, chunkCapacity: chunkSize)
    var offset = 0
    do {
        while offset < data.count {
            let chunk = try pool.take()
            let n = min(chunkSize, data.count - offset)
            data[offset..<offset + n].withUnsafeBytes { _ = chunk.append($0) }
            offset += n
            try sink.write(chunk)
        }
    } catch {
        // A producer that fails aborts its sink, as the Dumper does.
        sink.abort(error)
        throw error
    }
    try sink.finish()
}

/// Runs `command` with `input` on its standard input and returns its standard output.
func filter(_ input: [UInt8], through command: String) throws -> [UInt8] {
    let dir = try TemporaryDirectory("filter")
    defer { dir.remove() }
    try Data(input).write(to: URL(fileURLWithPath: dir.file("in")))
    let result = try ProcessRunner.shell("\(command) < '\(dir.file("in"))'")
    #expect(result.status == 0, "\(command): \(result.stderrText)")
    return [UInt8](result.stdout)
}

/// Hands `compressed` to a decoder's `decode` `feedSize` bytes at a time.
func decodeInPieces(_ compressed: [UInt8], feedSize: Int, _ decode: (UnsafeRawBufferPointer) throws -> Void) throws {
    var offset = 0
    while offset < compressed.count {
        let end = min(compressed.count, offset + feedSize)
        try compressed[offset..<end].withUnsafeBytes { try decode($0) }
        offset = end
    }
}

func sampleText(_ size: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed
    var out: [UInt8] = []
    out.reserveCapacity(size)
    let words = ["INSERT", "INTO", "\"tickets\"", "VALUES(", "'café'", "NULL", "42", "3.25", "X'00FF'", ");\n", "🎉"]
    while out.count < size {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        out += Array(words[Int(state >> 33) % words.count].utf8)
        out.append(UInt8(ascii: " "))
    }
    return Array(out.prefix(size))
}

@Suite("Parallel gzip")
struct GzipCompressorSinkTests {
    @Test("gunzip reads the multi-member output back exactly", arguments: [(1, 1), (6, 2), (6, 4), (12, 3)])
    func gunzipReadsIt(level: Int, threads: Int) throws {
        let dir = try TemporaryDirectory("gzip")
        defer { dir.remove() }
        let input = sampleText(3_500_000, seed: UInt64(level * 10 + threads))
        try Data(input).write(to: URL(fileURLWithPath: dir.file("plain")))
        let file = try FileSink.atomicFile(at: dir.file("out.gz"))
        let gzip = try GzipCompressorSink(downstream: file, level: level, threads: threads, chunkCapacity: 256 * 1024)
        try feed(input, chunkSize: 256 * 1024, into: gzip)
        #expect(gzip.bytesIn == input.count)
        let result = try ProcessRunner.shell("gunzip -c '\(dir.file("out.gz"))' | cmp - '\(dir.file("plain"))'")
        #expect(result.status == 0, "\(result.stderrText)\(result.stdoutText)")
        let crc = try ProcessRunner.shell("gzip -lv '\(dir.file("out.gz"))' >/dev/null; python3 -c 'import zlib,sys; print(zlib.crc32(open(sys.argv[1],\"rb\").read()))' '\(dir.file("plain"))'")
        #expect(crc.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == String(gzip.contentCRC32))
    }

    @Test("an empty stream is still valid gzip")
    func emptyStream() throws {
        let dir = try TemporaryDirectory("gzip-empty")
        defer { dir.remove() }
        let gzip = try GzipCompressorSink(downstream: try FileSink.atomicFile(at: dir.file("e.gz")), threads: 2)
        try gzip.finish()
        let result = try ProcessRunner.run(["gunzip", "-c", dir.file("e.gz")])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
    }

    @Test("level out of range is rejected with a clear message")
    func badLevel() throws {
        #expect(throws: CompressionError.self) { try GzipCompressorSink(downstream: DiscardSink(), level: 13, threads: 1) }
        do {
            _ = try GzipCompressorSink(downstream: DiscardSink(), level: 0, threads: 1)
        } catch {
            #expect("\(error)".contains("use 1 (fastest) to 12"))
        }
    }

    /// The producer's pool must get back every chunk still queued for compression when the
    /// pipeline fails: a producer waiting there for a chunk would otherwise wait forever (this
    /// hung a CI run once, in the test below, when the workers lost the race to the failure).
    @Test("an aborted compressor hands every queued chunk back to the producer's pool")
    func abortReturnsQueuedChunks() throws {
        let size = 4 << 20
        let pool = ChunkPool(size: 3, chunkCapacity: size)
        // One thread at level 12: the first chunk keeps it busy while the other two wait queued.
        let gzip = try GzipCompressorSink(downstream: DiscardSink(), level: 12, threads: 1, chunkCapacity: size)
        let text = sampleText(size)
        for _ in 0..<3 {
            let chunk = try pool.take()
            text.withUnsafeBytes { _ = chunk.append($0) }
            try gzip.write(chunk)
        }
        gzip.abort(OutputError(code: .writeFailed, path: "x", reason: "upload failed"))
        let allBack = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            for _ in 0..<3 { _ = try? pool.take() }
            allBack.signal()
        }
        #expect(allBack.wait(timeout: .now() + 20) == .success)
    }

    @Test("a failing destination stops the producer and aborts")
    func downstreamFailure() throws {
        final class Failing: ChunkSink {
            var aborted = false
            func write(_ chunk: Chunk) throws { chunk.recycle(); throw OutputError(code: .writeFailed, path: "x", reason: "disk full") }
            func finish() throws {}
            func abort(_ error: Error) { aborted = true }
        }
        let failing = Failing()
        let gzip = try GzipCompressorSink(downstream: failing, level: 1, threads: 2, chunkCapacity: 64 * 1024)
        #expect(throws: OutputError.self) { try feed(sampleText(2_000_000), chunkSize: 64 * 1024, into: gzip) }
        #expect(failing.aborted)
    }
}
