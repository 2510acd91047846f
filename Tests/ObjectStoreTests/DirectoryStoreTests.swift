import ChunkIO
import Foundation
import Testing
import TestSupport
@testable import ObjectStore

struct DirectoryStoreTests {
    @Test func putHeadGetListDelete() throws {
        let dir = try TemporaryDirectory("dirstore")
        defer { dir.remove() }
        let store = DirectoryStore(root: dir.path)
        try store.put(key: "db/2026/a.sql.gz", bytes: Array("one".utf8), metadata: ["rows": "1"], contentType: "application/gzip")
        try store.put(key: "db/b.sql.gz", bytes: [], metadata: [:], contentType: "application/gzip")
        try store.put(key: "other", bytes: [9], metadata: [:], contentType: "application/octet-stream")

        let info = try #require(try store.head(key: "db/2026/a.sql.gz"))
        #expect(info.size == 3 && info.metadata == ["rows": "1"])
        #expect(try store.head(key: "db/missing") == nil)
        #expect(try store.list(prefix: "db/").map(\.key) == ["db/2026/a.sql.gz", "db/b.sql.gz"])
        #expect(try store.list(prefix: "").count == 3)
        #expect(try store.listWithMetadata(prefix: "db/2026").map(\.metadata) == [["rows": "1"]])

        let sink = CollectingSink()
        try store.get(key: "db/2026/a.sql.gz", into: sink)
        #expect(sink.finished && sink.bytes == Array("one".utf8))

        try store.delete(keys: ["db/2026/a.sql.gz", "db/never-existed"])
        #expect(try store.list(prefix: "db/").map(\.key) == ["db/b.sql.gz"])
        // Emptied folders go too, sidecars with their objects.
        #expect(!FileManager.default.fileExists(atPath: dir.file("db/2026")))
        #expect(!FileManager.default.fileExists(atPath: dir.file("db/2026/a.sql.gz.meta.json")))
    }

    @Test func uploadIsInvisibleUntilFinishedAndAbortLeavesNothing() throws {
        let dir = try TemporaryDirectory("dirstore")
        defer { dir.remove() }
        let store = DirectoryStore(root: dir.path)
        let bytes = testBytes(3_000_000)

        let upload = try store.makeUpload(key: "x/big.bin", metadata: ["k": "v"], contentType: "application/octet-stream", sizeHint: nil)
        try stream(bytes, into: upload, chunkSize: 65_537, finish: false)
        #expect(try store.head(key: "x/big.bin") == nil)
        #expect(try store.list(prefix: "").isEmpty)
        try upload.finish()
        #expect(try store.head(key: "x/big.bin")?.metadata == ["k": "v"])

        let sink = CollectingSink()
        try store.get(key: "x/big.bin", into: sink)
        #expect(sink.bytes == bytes)
        #expect(sink.chunks == 3)  // streamed in 1 MiB chunks, not read whole

        let aborted = try store.makeUpload(key: "x/half.bin", metadata: [:], contentType: "application/octet-stream", sizeHint: nil)
        try stream(bytes, into: aborted, finish: false)
        aborted.abort(ProxyError("stop"))
        #expect(try store.list(prefix: "x/").map(\.key) == ["x/big.bin"])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.file("x")).sorted()
        #expect(leftovers == ["big.bin", "big.bin.meta.json"])
    }

    @Test func overwriteReplacesWholeObject() throws {
        let dir = try TemporaryDirectory("dirstore")
        defer { dir.remove() }
        let store = DirectoryStore(root: dir.path)
        try store.put(key: "k", bytes: Array(repeating: 1, count: 100), metadata: ["v": "1"], contentType: "a/b")
        try store.put(key: "k", bytes: [2], metadata: ["v": "2"], contentType: "a/b")
        let sink = CollectingSink()
        try store.get(key: "k", into: sink)
        #expect(sink.bytes == [2])
        #expect(try store.head(key: "k")?.metadata == ["v": "2"])
    }

    @Test func rejectsKeysThatEscapeTheFolder() throws {
        let store = DirectoryStore(root: "/tmp/nowhere")
        for key in ["../etc/passwd", "a/../../b", "", "a//b", "x.meta.json"] {
            let error = try #require(throws: ObjectStoreError.self) {
                try store.put(key: key, bytes: [], metadata: [:], contentType: "a/b")
            }
            #expect(error.code == .invalidArgument)
        }
        let missing = CollectingSink()
        #expect(throws: ObjectStoreError.self) { try store.get(key: "absent", into: missing) }
        #expect(missing.aborted)
    }
}
