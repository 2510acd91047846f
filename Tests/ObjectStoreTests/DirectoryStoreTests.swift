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

struct StoreLocationTests {
    static let env = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret-value",
                      "R2_ACCOUNT_ID": "abc123", "R2_ACCESS_KEY_ID": "R2KEY", "R2_SECRET_ACCESS_KEY": "r2-secret"]

    @Test func s3AndR2() throws {
        let (s3, prefix) = try StoreLocation.parse("s3://my-bucket/some/prefix/", environment: Self.env)
        #expect(prefix == "some/prefix/")
        let store = try #require(s3 as? S3Store)
        #expect(store.bucket == "my-bucket" && store.configuration.region == "us-east-1")
        #expect(store.configuration.endpoint == "https://s3.us-east-1.amazonaws.com")
        #expect(store.configuration.maxConcurrentParts == 4)
        #expect(s3.displayName == "s3://my-bucket")

        let (r2, r2Prefix) = try StoreLocation.parse("r2://backups/p/", environment: Self.env)
        let r2Store = try #require(r2 as? S3Store)
        #expect(r2Prefix == "p/")
        #expect(r2Store.configuration.endpoint == "https://abc123.r2.cloudflarestorage.com")
        #expect(r2Store.configuration.region == "auto" && r2Store.configuration.accessKeyId == "R2KEY")
        #expect(r2Store.configuration.maxConcurrentParts == 2)
        #expect(r2.displayName == "r2://backups")

        let custom = try StoreLocation.parse("s3://b-1/", environment: Self.env.merging(
            ["AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1"]) { $1 })
        let customStore = try #require(custom.store as? S3Store)
        #expect(customStore.configuration.endpoint == "http://127.0.0.1:9000" && customStore.configuration.region == "eu-west-1")
        #expect(custom.prefix == "")
    }

    @Test func folders() throws {
        #expect((try StoreLocation.parse("/abs/dir", environment: [:]).store as? DirectoryStore)?.root == "/abs/dir")
        #expect((try StoreLocation.parse("file:///abs/dir/", environment: [:]).store as? DirectoryStore)?.root == "/abs/dir")
        let relative = try #require(try StoreLocation.parse("./rel", environment: [:]).store as? DirectoryStore)
        #expect(relative.root == FileManager.default.currentDirectoryPath + "/rel")
    }

    @Test func mistakesAreExplainedWithoutSecrets() throws {
        let missingKeys = try #require(throws: ObjectStoreError.self) { try StoreLocation.parse("s3://bucket/", environment: [:]) }
        #expect(missingKeys.description.contains("AWS_ACCESS_KEY_ID"))
        let noAccount = try #require(throws: ObjectStoreError.self) { try StoreLocation.parse("r2://bucket/", environment: ["AWS_SECRET_ACCESS_KEY": "x"]) }
        #expect(noAccount.description.contains("R2_ACCOUNT_ID"))
        #expect(throws: ObjectStoreError.self) { try StoreLocation.parse("gs://bucket/", environment: Self.env) }
        let badBucket = try #require(throws: ObjectStoreError.self) { try StoreLocation.parse("s3://Bad_Bucket/", environment: Self.env) }
        #expect(!badBucket.description.contains("secret-value"))
    }
}
