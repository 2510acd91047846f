import ChunkIO
import Foundation
import Testing
import TestSupport
@testable import ObjectStore

/// S3Store against moto (signatures checked) and the fault proxy: failures at the end of an
/// upload, looping listings, metadata rewrites above the CopyObject limit, stale uploads.
struct S3StoreSafetyTests {
    static let part = S3TestEnvironment.partSize
    static let quickRetry = RetryPolicy(maxAttempts: 3, baseDelay: 0.05, maxDelay: 0.2)

    @Test func aRepeatedContinuationTokenStopsTheListing() throws {
        let env = try S3TestEnvironment()
        let page = "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true</IsTruncated>"
            + "<Contents><Key>a</Key><Size>1</Size></Contents><NextContinuationToken>loop</NextContinuationToken></ListBucketResult>"
        let proxy = try FaultProxy(upstream: env.endpoint) { method, target, _ in
            method == "GET" && target.contains("list-type=2") ? .respond(status: 200, body: page) : .forward
        }
        defer { proxy.stop() }
        let started = Date()
        let error = try #require(throws: ObjectStoreError.self) {
            try env.store(endpoint: proxy.endpoint, retry: Self.quickRetry).list(prefix: "")
        }
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(error.description.contains("repeated continuation token"), "\(error)")
        #expect(proxy.requests.count == 2)
    }

    @Test func aTruncatedListingWithoutATokenIsAnError() throws {
        let env = try S3TestEnvironment()
        let page = "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key></Contents></ListBucketResult>"
        let proxy = try FaultProxy(upstream: env.endpoint) { _, _, _ in .respond(status: 200, body: page) }
        defer { proxy.stop() }
        let error = try #require(throws: ObjectStoreError.self) {
            try env.store(endpoint: proxy.endpoint, retry: Self.quickRetry).list(prefix: "")
        }
        #expect(error.description.contains("no continuation token"), "\(error)")
    }

    @Test func metadataAboveTheCopyLimitIsRewrittenByMultipartCopy() throws {
        let env = try S3TestEnvironment()
        let proxy = try FaultProxy(upstream: env.endpoint) { _, _, _ in .forward }
        defer { proxy.stop() }
        var configuration = env.configuration(endpoint: proxy.endpoint)
        // The 5 GiB limit, scaled down so a 12 MiB object takes the multipart-copy path.
        configuration.multipartCopyThreshold = Self.part
        configuration.copyPartSize = Self.part
        let store = try S3Store(bucket: env.bucket, configuration: configuration)
        let bytes = testBytes(2 * Self.part + 2 * 1024 * 1024 + 3, seed: 11)
        let upload = try store.makeUpload(key: "big/db.sql.gz", metadata: ["state": "streaming"], contentType: "application/gzip", sizeHint: nil)
        try stream(bytes, into: upload)

        try store.replaceMetadata(key: "big/db.sql.gz", metadata: ["state": "final", "size": "\(bytes.count)"], contentType: "application/gzip")
        let ranges = proxy.requests.compactMap { $0.headers["x-amz-copy-source-range"] }
        #expect(ranges == ["bytes=0-\(Self.part - 1)", "bytes=\(Self.part)-\(2 * Self.part - 1)",
                           "bytes=\(2 * Self.part)-\(bytes.count - 1)"])
        let head = try env.headObject("big/db.sql.gz")
        #expect(head["Metadata"] as? [String: String] == ["state": "final", "size": "\(bytes.count)"])
        #expect(head["ContentLength"] as? Int == bytes.count)
        #expect(head["ContentType"] as? String == "application/gzip")
        #expect(try env.download("big/db.sql.gz") == bytes)
        #expect(try store.listMultipartUploads(prefix: "").isEmpty)

        // Below the threshold it stays one CopyObject.
        try store.put(key: "small", bytes: [1, 2, 3], metadata: ["v": "1"], contentType: "a/b")
        let before = proxy.requests.count
        try store.replaceMetadata(key: "small", metadata: ["v": "2"], contentType: "a/b")
        let copies = proxy.requests.dropFirst(before).filter { $0.headers["x-amz-copy-source"] != nil }
        #expect(copies.count == 1 && copies.allSatisfy { $0.headers["x-amz-copy-source-range"] == nil })
        #expect(try env.headObject("small")["Metadata"] as? [String: String] == ["v": "2"])
    }

    @Test func finalMetadataAtFinishNeedsNoCopyForASinglePut() throws {
        let env = try S3TestEnvironment()
        let proxy = try FaultProxy(upstream: env.endpoint) { _, _, _ in .forward }
        defer { proxy.stop() }
        let store = try env.store(endpoint: proxy.endpoint)
        let small = try #require(try store.makeUpload(key: "s.sql.gz", metadata: ["size": "?"], contentType: "application/gzip",
                                                      sizeHint: nil) as? FinalMetadataUpload)
        try stream(testBytes(1000), into: small, finish: false)
        try small.finish(metadata: ["size": "1000"], contentType: nil)
        #expect(try store.head(key: "s.sql.gz")?.metadata == ["size": "1000"])
        #expect(proxy.requests.allSatisfy { $0.headers["x-amz-copy-source"] == nil })
        #expect(try env.headObject("s.sql.gz")["Metadata"] as? [String: String] == ["size": "1000"])

        // A multipart one is completed, then copied once onto itself with the final metadata.
        let bytes = testBytes(Self.part + 10, seed: 4)
        let big = try #require(try store.makeUpload(key: "m.sql.gz", metadata: ["size": "?"], contentType: "application/gzip",
                                                    sizeHint: nil) as? FinalMetadataUpload)
        try stream(bytes, into: big, finish: false)
        try big.finish(metadata: ["size": "\(bytes.count)"], contentType: nil)
        #expect(try store.head(key: "m.sql.gz")?.metadata == ["size": "\(bytes.count)"])
        // Read back with our client: moto keeps the parts' composite CRC32 on the copy, which
        // the aws CLI then refuses as a whole-object checksum.
        let sink = CollectingSink()
        try store.get(key: "m.sql.gz", into: sink)
        #expect(sink.bytes == bytes)
    }

    @Test func staleMultipartUploadsAreAbortedByAge() throws {
        let env = try S3TestEnvironment()
        let store = try env.store()
        // A killed backup: parts sent, never completed nor aborted.
        let killed = try store.makeUpload(key: "backups/killed.sql.gz", metadata: [:], contentType: "application/gzip", sizeHint: nil)
        try stream(testBytes(2 * Self.part + 1), into: killed, finish: false)
        // `prefix=backups%2F` is the form S3 wants but moto refuses (see S3StoreTests).
        let pending = try store.listPendingUploads(prefix: "backups")
        #expect(pending.map(\.key) == ["backups/killed.sql.gz"])
        // Ages count from the server's own `Initiated` (moto states a fixed date in 2010).
        let initiated = try #require(pending.first?.initiated)

        // Young uploads (a backup running now) are spared.
        #expect(try store.abortStaleUploads(prefix: "backups", olderThan: 3600, now: initiated.addingTimeInterval(60)).isEmpty)
        #expect(try store.abortStaleUploads(prefix: "other", olderThan: 60, now: initiated.addingTimeInterval(7200)).isEmpty)
        #expect(try store.listPendingUploads(prefix: "backups").count == 1)
        let aborted = try store.abortStaleUploads(prefix: "backups", olderThan: 3600, now: initiated.addingTimeInterval(7200))
        #expect(aborted.map(\.key) == ["backups/killed.sql.gz"])
        #expect(try store.listMultipartUploads(prefix: "").isEmpty)
        killed.abort(ProxyError("the run was killed"))
        #expect(try store.head(key: "backups/killed.sql.gz") == nil)
    }

    @Test func wrongCredentialsOnASinglePutEndFinishPromptly() throws {
        let env = try S3TestEnvironment()
        let store = try env.store(secret: "wrong-\(env.secretKey)")
        let started = Date()
        let upload = try store.makeUpload(key: "small.sql.gz", metadata: [:], contentType: "application/gzip", sizeHint: 1000)
        try stream(testBytes(1000), into: upload, finish: false)
        let error = try #require(throws: ObjectStoreError.self) { try upload.finish() }
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(error.code == .wrongCredentials)
        #expect(error.stage == .putObject)
        #expect(error.description.hasPrefix("storing small.sql.gz with a single PutObject failed"), "\(error)")
        #expect(!error.description.contains(env.secretKey))
        upload.abort(error)
        #expect(try env.store().head(key: "small.sql.gz") == nil)
    }

    @Test(arguments: [200, 500])
    func aFailedCompletionEndsFinishPromptlyAndAbortsTheUpload(status: Int) throws {
        let env = try S3TestEnvironment()
        let proxy = try FaultProxy(upstream: env.endpoint) { method, target, _ in
            guard S3StoreFaultTests.isComplete(method, target) else { return .forward }
            return .respond(status: status, body: "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>")
        }
        defer { proxy.stop() }
        let store = try env.store(endpoint: proxy.endpoint, retry: Self.quickRetry)
        let started = Date()
        let upload = try store.makeUpload(key: "end/db.sql.gz", metadata: [:], contentType: "application/gzip", sizeHint: nil)
        let error = try #require(throws: ObjectStoreError.self) { try stream(testBytes(2 * Self.part + 9), into: upload) }
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(error.stage == .completeMultipartUpload)
        #expect(error.description.hasPrefix("completing the multipart upload of end/db.sql.gz failed"), "\(error)")
        #expect(proxy.requests.filter { S3StoreFaultTests.isComplete($0.method, $0.target) }.count == Self.quickRetry.maxAttempts)
        #expect(proxy.requests.contains { $0.method == "DELETE" && $0.target.contains("uploadId=") })
        let direct = try env.store()
        #expect(try direct.listMultipartUploads(prefix: "").isEmpty)
        #expect(try direct.head(key: "end/db.sql.gz") == nil)
    }

    @Test func invalidKeysFailBeforeAnyRequest() throws {
        let env = try S3TestEnvironment()
        let proxy = try FaultProxy(upstream: env.endpoint) { _, _, _ in .forward }
        defer { proxy.stop() }
        let store = try env.store(endpoint: proxy.endpoint)
        for key in [String(repeating: "k", count: 2000), "a\u{1}b", "new\nline", "", "a/../b", "nul\u{0}"] {
            var errors: [ObjectStoreError] = []
            func collect(_ body: () throws -> Void) {
                do { try body() } catch let error as ObjectStoreError { errors.append(error) } catch {}
            }
            collect { try store.put(key: key, bytes: [1], metadata: [:], contentType: "a/b") }
            collect { _ = try store.makeUpload(key: key, metadata: [:], contentType: "a/b", sizeHint: nil) }
            collect { try store.get(key: key, into: CollectingSink()) }
            collect { _ = try store.head(key: key) }
            collect { try store.delete(keys: [key]) }
            collect { try store.replaceMetadata(key: key, metadata: [:], contentType: "a/b") }
            #expect(errors.count == 6, "\(key.debugDescription.prefix(30))")
            #expect(errors.allSatisfy { $0.isInvalidKey && $0.code == .invalidArgument })
            #expect(errors.allSatisfy { $0.description.count < 600 && !$0.description.contains("\n") })
        }
        #expect(proxy.requests.isEmpty)
    }
}
