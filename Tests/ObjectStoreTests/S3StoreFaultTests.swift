import Foundation
import Testing
import TestSupport
@testable import ObjectStore

/// Multipart uploads through a proxy that fails requests the way S3 does under stress.
struct S3StoreFaultTests {
    static let part = S3TestEnvironment.partSize
    static let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: 0.01, maxDelay: 0.05)

    static func isPartUpload(_ method: String, _ target: String) -> Bool {
        method == "PUT" && target.contains("partNumber=")
    }

    static func isComplete(_ method: String, _ target: String) -> Bool {
        method == "POST" && target.contains("uploadId=")
    }

    @Test func transientFailuresAreRetriedAndTheObjectIsWhole() throws {
        let env = try S3TestEnvironment()
        let counter = FaultCounter()
        let proxy = try FaultProxy(upstream: env.endpoint) { method, target, _ in
            if Self.isPartUpload(method, target) {
                switch counter.next("part") {
                case 0, 2: return .respond(status: 503, body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")
                case 1: return .drop
                default: return .forward
                }
            }
            if Self.isComplete(method, target), counter.next("complete") == 0 {
                // S3 may answer 200 and only then fail the completion, in the body.
                return .respond(status: 200, body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>")
            }
            return .forward
        }
        defer { proxy.stop() }
        let store = try env.store(endpoint: proxy.endpoint, retry: Self.fastRetry)
        let bytes = testBytes(3 * Self.part + 777, seed: 42)
        let upload = try store.makeUpload(key: "faulty/db.sql.gz", metadata: ["try": "1"], contentType: "application/gzip", sizeHint: nil)
        try stream(bytes, into: upload)

        #expect(try env.download("faulty/db.sql.gz") == bytes)
        #expect(counter.count("part") >= 4 + 3)
        #expect(counter.count("complete") == 2)
        // Every part carries the CRC-32 of exactly the bytes it sent.
        let parts = proxy.requests.filter { Self.isPartUpload($0.method, $0.target) }
        #expect(parts.count == counter.count("part"))
        for part in parts {
            #expect(part.headers["x-amz-checksum-crc32"] == bigEndianBase64(part.bodyCRC32), "\(part.target)")
            // The payload is not hashed again for the signature; the signed Content-MD5 pins it.
            #expect(part.headers["content-md5"]?.isEmpty == false)
            #expect(part.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD")
            let signedHeaders = part.headers["authorization"]?.components(separatedBy: "SignedHeaders=").last ?? ""
            #expect(signedHeaders.hasPrefix("content-md5;") || signedHeaders.contains(";content-md5;"))
            #expect(signedHeaders.contains("x-amz-checksum-crc32"))
        }
        #expect(try store.listMultipartUploads(prefix: "").isEmpty)
    }

    @Test func persistentFailureAbortsTheUploadAndLeavesNoParts() throws {
        let env = try S3TestEnvironment()
        let proxy = try FaultProxy(upstream: env.endpoint) { method, target, _ in
            // Let the first part through so there is something to clean up.
            if Self.isPartUpload(method, target) && !target.contains("partNumber=1&") {
                return .respond(status: 503, body: "<Error><Code>ServiceUnavailable</Code><Message>Down for the test.</Message></Error>")
            }
            return .forward
        }
        defer { proxy.stop() }
        let store = try env.store(endpoint: proxy.endpoint, retry: Self.fastRetry)
        let upload = try store.makeUpload(key: "doomed/db.sql.gz", metadata: [:], contentType: "application/gzip", sizeHint: nil)
        let error = try #require(throws: ObjectStoreError.self) { try stream(testBytes(3 * Self.part + 1), into: upload) }
        #expect(error.serverCode == "ServiceUnavailable")
        #expect(error.description.contains("doomed/db.sql.gz"))

        #expect(proxy.requests.contains { $0.method == "DELETE" && $0.target.contains("uploadId=") })
        #expect(throws: ObjectStoreError.self) { try upload.finish() }
        let direct = try env.store()
        #expect(try direct.listMultipartUploads(prefix: "").isEmpty)
        #expect(try direct.head(key: "doomed/db.sql.gz") == nil)
    }

    @Test func brokenDownloadResumesWhereItStopped() throws {
        let env = try S3TestEnvironment()
        let bytes = testBytes(3 * 1024 * 1024 + 17, seed: 7)
        try env.store().put(key: "big.sql.gz", bytes: bytes, metadata: [:], contentType: "application/gzip")
        let counter = FaultCounter()
        let proxy = try FaultProxy(upstream: env.endpoint) { method, _, _ in
            // The first five answers break off after about 600 kB each: more breaks than
            // fastRetry's 4 attempts, survived because each one made progress.
            method == "GET" && counter.next("get") < 5 ? .truncate(bytes: 600_000) : .forward
        }
        defer { proxy.stop() }
        let sink = CollectingSink()
        try env.store(endpoint: proxy.endpoint, retry: Self.fastRetry).get(key: "big.sql.gz", into: sink)
        #expect(sink.finished && !sink.aborted)
        #expect(sink.bytes == bytes)

        let gets = proxy.requests.filter { $0.method == "GET" }
        #expect(gets.count == 6)
        let etag = try #require(try env.store().head(key: "big.sql.gz")?.etag)
        #expect(gets.first?.headers["range"] == nil)
        var previous = 0
        for resumed in gets.dropFirst() {
            let start = Int(resumed.headers["range"]?.dropFirst("bytes=".count).dropLast() ?? "") ?? 0
            // Each attempt resumes after the bytes of the one before.
            #expect(start > previous && start < bytes.count)
            #expect(resumed.headers["if-match"] == etag)
            previous = start
        }
    }

    @Test func objectReplacedDuringADownloadIsNotStitched() throws {
        let env = try S3TestEnvironment()
        let direct = try env.store()
        try direct.put(key: "moving", bytes: testBytes(2 * 1024 * 1024, seed: 1), metadata: [:], contentType: "application/gzip")
        let counter = FaultCounter()
        let proxy = try FaultProxy(upstream: env.endpoint) { method, _, _ in
            guard method == "GET" else { return .forward }
            if counter.next("get") == 0 { return .truncate(bytes: 500_000) }
            // Another writer replaces the object before the download resumes.
            try? direct.put(key: "moving", bytes: testBytes(2 * 1024 * 1024, seed: 2), metadata: [:], contentType: "application/gzip")
            return .forward
        }
        defer { proxy.stop() }
        let sink = CollectingSink()
        let error = try #require(throws: ObjectStoreError.self) {
            try env.store(endpoint: proxy.endpoint, retry: Self.fastRetry).get(key: "moving", into: sink)
        }
        #expect(error.description.contains("replaced while it was being downloaded"))
        #expect(sink.aborted && !sink.finished)
    }

    @Test func aResumedAnswerThatStartsOverIsRefused() throws {
        let env = try S3TestEnvironment()
        try env.store().put(key: "restart", bytes: testBytes(2 * 1024 * 1024, seed: 3), metadata: [:], contentType: "application/gzip")
        let counter = FaultCounter()
        let proxy = try FaultProxy(upstream: env.endpoint) { method, _, _ in
            guard method == "GET" else { return .forward }
            switch counter.next("get") {
            case 0: return .truncate(bytes: 500_000)
            // A server that ignores Range answers 200 with the object from byte 0.
            default: return .respond(status: 200, body: "the whole object again")
            }
        }
        defer { proxy.stop() }
        let sink = CollectingSink()
        let error = try #require(throws: ObjectStoreError.self) {
            try env.store(endpoint: proxy.endpoint, retry: Self.fastRetry).get(key: "restart", into: sink)
        }
        #expect(error.description.contains("HTTP 200 instead of 206 Partial Content"), "\(error)")
        #expect(sink.aborted && !sink.finished)
        #expect(counter.count("get") == 2)
    }

    @Test func aDownloadThatNeverProgressesGivesUp() throws {
        let env = try S3TestEnvironment()
        try env.store().put(key: "stuck", bytes: testBytes(100_000), metadata: [:], contentType: "application/gzip")
        // Every answer breaks off inside its headers: no byte of the body ever arrives.
        let proxy = try FaultProxy(upstream: env.endpoint) { method, _, _ in method == "GET" ? .truncate(bytes: 40) : .forward }
        defer { proxy.stop() }
        let sink = CollectingSink()
        let error = try #require(throws: ObjectStoreError.self, "got \(sink.bytes.count) bytes; \(proxy.requests.map { "\($0.method) \($0.target)" })") {
            try env.store(endpoint: proxy.endpoint, retry: Self.fastRetry).get(key: "stuck", into: sink)
        }
        #expect(error.code == .connectionLost)
        #expect(proxy.requests.filter { $0.method == "GET" }.count == Self.fastRetry.maxAttempts)
        #expect(sink.aborted && sink.bytes.isEmpty)
    }

    @Test func abortLeavesNothing() throws {
        let env = try S3TestEnvironment()
        let store = try env.store()
        let upload = try store.makeUpload(key: "aborted", metadata: [:], contentType: "application/octet-stream", sizeHint: nil)
        let bytes = testBytes(2 * Self.part + 5)
        try stream(bytes, into: upload, finish: false)
        upload.abort(ProxyError("stopped by the test"))
        #expect(try store.listMultipartUploads(prefix: "").isEmpty)
        #expect(try store.head(key: "aborted") == nil)
    }
}

/// Counts requests per kind from the proxy's threads.
final class FaultCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    /// Returns how many of `kind` came before this one.
    func next(_ kind: String) -> Int {
        lock.withLock {
            let n = counts[kind, default: 0]
            counts[kind] = n + 1
            return n
        }
    }
    func count(_ kind: String) -> Int { lock.withLock { counts[kind, default: 0] } }
}
