import ChunkIO
import Foundation
import Testing
import TestSupport
@testable import ObjectStore

/// S3Store against a real moto_server (signatures checked), read back with the `aws` CLI.
///
/// moto verifies signatures against the URL as werkzeug re-quoted it: `%3A %2B %40 %2C %3D %27`
/// and non-ASCII in keys, and `%2F` in query values, come back decoded, so a correct signature
/// (and the `aws` CLI's) is refused for them. Keys here use letters, digits, `-._~`, space and
/// `/`; the other characters are covered by the botocore-signed vectors in SigV4SignerTests.
struct S3StoreTests {
    static let part = S3TestEnvironment.partSize
    static let sizes = [0, 1, part - 1, part, part + 1, 3 * part + 12_345]

    @Test(arguments: sizes)
    func streamedUploadReadsBackWithAWSCLI(size: Int) throws {
        let env = try S3TestEnvironment()
        let store = try env.store()
        let key = "backups/db \(size) ~x.sql.gz"
        let bytes = testBytes(size, seed: UInt64(size) &+ 1)
        let upload = try store.makeUpload(key: key, metadata: ["source": "chinook.sqlite", "rows": "\(size)"],
                                          contentType: "application/gzip", sizeHint: nil)
        try stream(bytes, into: upload)

        #expect(try env.download(key) == bytes)
        let head = try env.headObject(key)
        #expect(head["ContentLength"] as? Int == size)
        #expect(head["ContentType"] as? String == "application/gzip")
        #expect(head["Metadata"] as? [String: String] == ["source": "chinook.sqlite", "rows": "\(size)"])
        // More than one part means a multipart ETag ("…-N").
        let etag = head["ETag"] as? String ?? ""
        #expect(etag.contains("-") == (size > Self.part))
        if size > Self.part {
            // The upload declared CRC32, so the server keeps a composite checksum of the parts
            // (moto leaves off the "-N" that S3 appends).
            let stored = (head["ChecksumCRC32"] as? String ?? "").split(separator: "-").first.map(String.init)
            #expect(stored == compositeCRC32(bytes, partSize: Self.part))
        }

        let info = try #require(try store.head(key: key))
        #expect(info.size == size)
        #expect(info.metadata == ["source": "chinook.sqlite", "rows": "\(size)"])
        let sink = CollectingSink()
        try store.get(key: key, into: sink)
        #expect(sink.finished && sink.bytes == bytes)
        #expect(sink.chunks == (size + (1 << 20) - 1) >> 20)  // streamed in 1 MiB chunks
        #expect(try store.listMultipartUploads(prefix: "").isEmpty)
    }

    /// R2's settings (and AWS_REQUEST_CHECKSUM_CALCULATION=when_required): Content-MD5 only;
    /// one part in flight still overlaps reading and sending with its second buffer.
    @Test func onePartInFlightWithoutChecksums() throws {
        let env = try S3TestEnvironment()
        let store = try env.store(concurrency: 1, partChecksums: false)
        let bytes = testBytes(3 * Self.part + 99, seed: 5)
        let upload = try store.makeUpload(key: "single/lane", metadata: [:], contentType: "application/gzip", sizeHint: nil)
        try stream(bytes, into: upload)
        #expect(try env.download("single/lane") == bytes)
        let head = try env.headObject("single/lane")
        #expect((head["ETag"] as? String)?.hasSuffix("-4\"") == true)
        #expect(head["ChecksumCRC32"] == nil)
        #expect(try store.listMultipartUploads(prefix: "").isEmpty)
    }

    @Test func partChecksumsAreBigEndianBase64CRC32() {
        let check = Array("123456789".utf8)
        check.withUnsafeBytes { #expect(S3Store.crc32Base64($0) == "y/Q5Jg==") }  // 0xCBF43926
        #expect(crc32(check) == 0xCBF4_3926)
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        #expect(S3Store.crc32Base64(empty) == "AAAAAA==")
    }

    @Test func putHeadGetDelete() throws {
        let env = try S3TestEnvironment()
        let store = try env.store()
        try store.put(key: "a/b c.txt", bytes: Array("hello".utf8), metadata: ["kind": "note"], contentType: "text/plain")
        #expect(try env.download("a/b c.txt") == Array("hello".utf8))
        #expect(try store.head(key: "a/b c.txt")?.metadata == ["kind": "note"])
        #expect(try store.head(key: "a/missing") == nil)
        #expect(try store.listWithMetadata(prefix: "a").map(\.metadata) == [["kind": "note"]])
        try store.delete(keys: ["a/b c.txt"])
        #expect(try store.head(key: "a/b c.txt") == nil)
        #expect(throws: ObjectStoreError.self) { try store.get(key: "a/b c.txt", into: CollectingSink()) }
    }

    @Test func listsAcrossPagesAndDeletesInBatches() throws {
        let env = try S3TestEnvironment()
        let store = try env.store()
        let keys = (0..<1_005).map { "many/\(String(format: "%05d", $0)) x" }
        let failures = NSLock()
        nonisolated(unsafe) var errors: [Error] = []
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in stride(from: worker, to: keys.count, by: 8) {
                do {
                    try store.put(key: keys[index], bytes: [UInt8(index & 0xFF)], metadata: [:], contentType: "application/octet-stream")
                } catch {
                    failures.withLock { errors.append(error) }
                }
            }
        }
        let failed = errors.count, first = errors.first.map { "\($0)" } ?? ""
        #expect(failed == 0, "first failure: \(first)")
        try store.put(key: "other/x", bytes: [1], metadata: [:], contentType: "application/octet-stream")

        // `prefix=many%2F` is the form S3 wants but moto refuses (see above).
        let listed = try store.list(prefix: "many")
        #expect(listed.map(\.key) == keys)
        #expect(listed.allSatisfy { $0.size == 1 })

        try store.delete(keys: keys)
        #expect(try store.list(prefix: "many").isEmpty)
        #expect(try store.list(prefix: "").map(\.key) == ["other/x"])
    }

    @Test func wrongSecretIsRejectedWithoutLeakingIt() throws {
        let env = try S3TestEnvironment()
        let secret = "wrong-\(env.secretKey)"
        let store = try env.store(secret: secret)
        let error = try #require(throws: ObjectStoreError.self) {
            try store.put(key: "x", bytes: [1], metadata: [:], contentType: "application/octet-stream")
        }
        #expect(error.code == .wrongCredentials)
        #expect(error.description.contains("s3://\(env.bucket)"))
        #expect(!error.description.contains(secret) && !error.description.contains(env.secretKey))
        let upload = try store.makeUpload(key: "big", metadata: [:], contentType: "application/octet-stream", sizeHint: nil)
        #expect(throws: ObjectStoreError.self) { try stream(testBytes(2 * Self.part), into: upload) }
    }

    @Test func missingBucketAndUnreachableEndpointSayWhatToDo() throws {
        let env = try S3TestEnvironment()
        let missing = try S3Store(bucket: "no-such-bucket-here", configuration: env.configuration())
        let error = try #require(throws: ObjectStoreError.self) { try missing.list(prefix: "") }
        #expect(error.code == .noSuchBucket)

        let closed = try S3Store(bucket: env.bucket, configuration: env.configuration(
            endpoint: "http://127.0.0.1:9", retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01)))
        let unreachable = try #require(throws: ObjectStoreError.self) { try closed.head(key: "x") }
        #expect(unreachable.code == .unreachable)
        #expect(unreachable.description.contains("check the endpoint"))
    }

    @Test func partSizeKeepsWithinTenThousandParts() {
        let mib = 1 << 20
        #expect(MultipartUpload.partSize(sizeHint: nil, defaultSize: 8 * mib) == 8 * mib)
        #expect(MultipartUpload.partSize(sizeHint: 1 << 30, defaultSize: 8 * mib) == 8 * mib)
        let huge = 200 * 1024 * mib
        let size = MultipartUpload.partSize(sizeHint: huge, defaultSize: 8 * mib)
        #expect(size % mib == 0 && (huge + size - 1) / size <= 10_000)
    }
}
