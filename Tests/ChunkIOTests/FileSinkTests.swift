import ChunkIO
import Foundation
import Testing
import TestSupport

struct FileSinkTests {
    @Test func theFileAppearsOnlyWhenFinished() throws {
        let dir = try TemporaryDirectory("filesink")
        defer { dir.remove() }
        let path = dir.file("out.sql")
        let sink = try FileSink.atomicFile(at: path)
        let expected = try writeNumbered(50, to: sink, pool: ChunkPool(size: 2, chunkCapacity: 1000))
        #expect(!FileManager.default.fileExists(atPath: path))
        try sink.finish()
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == expected)
        #expect(sink.bytesWritten == expected.count)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.sql"])
    }

    @Test func abortLeavesNothingAndKeepsAnOldFile() throws {
        let dir = try TemporaryDirectory("filesink")
        defer { dir.remove() }
        let path = dir.file("out.sql")
        try Data("previous".utf8).write(to: URL(fileURLWithPath: path))
        let sink = try FileSink.atomicFile(at: path)
        _ = try writeNumbered(5, to: sink, pool: ChunkPool(size: 1, chunkCapacity: 100))
        sink.abort(TestError("interrupted"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "previous")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.sql"])
    }

    @Test func anUncreatableFileIsAnOutputError() throws {
        let error = try #require(throws: OutputError.self) {
            _ = try FileSink.atomicFile(at: "/nonexistent-dir-\(UUID().uuidString)/out.sql")
        }
        #expect(error.code == .cannotCreate)
        #expect(error.description.contains("out.sql"))
        #expect(throws: OutputError.self) { _ = try FileSink.atomicFile(at: "/tmp/") }
    }
}
