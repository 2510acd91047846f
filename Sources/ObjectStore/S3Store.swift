import ChunkIO
import Crypto
import Foundation
import Support

/// An S3-compatible bucket (AWS S3, Cloudflare R2, moto) over libcurl with path-style addressing.
package final class S3Store: ObjectStore, @unchecked Sendable {
    package let bucket: String
    package let configuration: S3Configuration
    let signer: SigV4Signer
    let host: String
    private let idleHandles = NSLock()
    private var handles: [CurlHandle] = []

    package init(bucket: String, configuration: S3Configuration) throws {
        guard let url = URL(string: configuration.endpoint), let hostName = url.host, !hostName.isEmpty,
              url.scheme == "http" || url.scheme == "https" else {
            throw ObjectStoreError(.invalidLocation, store: "s3://\(bucket)", key: nil,
                                   cause: "the endpoint \(configuration.endpoint) is not an http(s) URL")
        }
        self.bucket = bucket
        self.configuration = configuration
        self.host = url.port.map { "\(hostName):\($0)" } ?? hostName
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
    }

    package var displayName: String {
        configuration.endpoint.contains(".r2.cloudflarestorage.com") ? "r2://\(bucket)" : "s3://\(bucket)"
    }

    // MARK: ObjectStore

    package var uploadBufferBytes: Int { max(2, configuration.maxConcurrentParts) * configuration.defaultPartSize }

    @discardableResult
    package func put(key: String, bytes: [UInt8], metadata: [String: String], contentType: String,
                     condition: WriteCondition) throws -> String? {
        try validate(key: key, metadata: metadata)
        return try bytes.withUnsafeBytes { body in
            try putObject(key: key, body: body, metadata: metadata, contentType: contentType, condition: condition, handle: nil)
        }
    }

    package func makeUpload(key: String, metadata: [String: String], contentType: String, sizeHint: Int?,
                            condition: WriteCondition) throws -> ObjectUpload {
        try validate(key: key, metadata: metadata)
        return MultipartUpload(store: self, key: key, metadata: metadata, contentType: contentType, condition: condition,
                               partSize: MultipartUpload.partSize(sizeHint: sizeHint, defaultSize: configuration.defaultPartSize))
    }

    package func get(key: String, into sink: ChunkSink) throws {
        do {
            try validate(key: key, metadata: [:])
        } catch {
            sink.abort(error)
            throw error
        }
        let stream = BodyStream(sink: sink, pool: ChunkPool(size: 4, chunkCapacity: 1 << 20),
                                store: displayName, key: key)
        do {
            // A retry after bytes reached the sink resumes where they stopped, from the same
            // version of the object (If-Match), so a long restore survives a dropped connection.
            try configuration.retry.run(progress: { stream.delivered }) { _ in
                stream.beginAttempt()
                var headers: [(String, String)] = []
                if let start = stream.resumeFrom {
                    // Everything arrived before the failure: nothing left to ask for.
                    if let total = stream.total, start >= total { return }
                    guard let etag = stream.etag else {
                        var error = ObjectStoreError(.connectionLost, store: displayName, key: key,
                                                     cause: "the download broke off and the answer had no ETag to resume it by")
                        error.isFinal = true
                        throw error
                    }
                    headers = [("Range", "bytes=\(start)-"), ("If-Match", etag)]
                }
                do {
                    let response = try request("GET", key: key, headers: headers, stream: stream)
                    // An answer without body bytes was not checked on the way in.
                    try stream.accept(status: response.status, headers: response.headers)
                } catch let error as ObjectStoreError where error.code == .preconditionFailed {
                    throw ObjectStoreError(.resumeMismatch, store: displayName, key: key, cause: ObjectStoreError.objectReplaced,
                                           serverCode: error.serverCode, httpStatus: error.httpStatus)
                }
            }
            if let total = stream.total, stream.delivered != total {
                throw ObjectStoreError(.connectionLost, store: displayName, key: key,
                                       cause: "the download ended after \(stream.delivered) of \(total) bytes")
            }
            try stream.flush()
        } catch {
            sink.abort(error)
            throw error
        }
        try sink.finish()
    }

    package func head(key: String) throws -> ObjectInfo? {
        try validate(key: key, metadata: [:])
        do {
            let response = try configuration.retry.run { _ in try request("HEAD", key: key) }
            return ObjectInfo(key: key, size: Int(response.headers["content-length"] ?? "") ?? 0,
                              lastModified: HTTPDate.parseRFC1123(response.headers["last-modified"] ?? "") ?? Date(timeIntervalSince1970: 0),
                              etag: response.headers["etag"],
                              metadata: Self.metadata(from: response.headers))
        } catch let error as ObjectStoreError where error.code == .notFound {
            return nil
        }
    }

    /// One ranged GET: the body (at most `limit` + 1 bytes asked for, so a huge object planted
    /// at the key is never read whole) and the ETag of the version it came from.
    package func getVersion(key: String, limit: Int) throws -> ObjectVersion? {
        try validate(key: key, metadata: [:])
        let response: HTTPResponse
        do {
            response = try configuration.retry.run { _ in try request("GET", key: key, headers: [("Range", "bytes=0-\(limit)")]) }
        } catch let error as ObjectStoreError where error.code == .notFound {
            return nil
        } catch let error as ObjectStoreError where error.httpStatus == 416 {
            // An empty object has no byte 0 to range over: read it the long way.
            return try readVersionInSteps(key: key, limit: limit)
        }
        let total = response.headers["content-range"].flatMap { $0.split(separator: "/").last }.flatMap { Int($0) }
        guard response.body.count <= limit, (total ?? 0) <= limit else { throw tooLarge(key, limit: limit) }
        guard let etag = response.headers["etag"] else {
            return try readVersionInSteps(key: key, limit: limit)
        }
        return ObjectVersion(bytes: response.body, etag: etag)
    }

    package func list(prefix: String) throws -> [ObjectInfo] {
        try validatePrefix(prefix)
        var objects: [ObjectInfo] = []
        var token: String?
        var seen: Set<String> = []
        repeat {
            var query = [(name: "list-type", value: "2"), (name: "prefix", value: prefix)]
            if let token { query.append((name: "continuation-token", value: token)) }
            let response = try configuration.retry.run { _ in try request("GET", key: nil, query: query) }
            let page = S3XML(response.body)
            for entry in page.elements("Contents") {
                let item = S3XML(entry)
                guard let key = item.first("Key") else { continue }
                objects.append(ObjectInfo(key: key, size: Int(item.first("Size") ?? "") ?? 0,
                                          lastModified: HTTPDate.parseISO8601(item.first("LastModified") ?? "") ?? Date(timeIntervalSince1970: 0),
                                          etag: item.first("ETag"), metadata: [:]))
            }
            token = nil
            if page.first("IsTruncated") == "true" {
                guard let next = page.first("NextContinuationToken"), !next.isEmpty else {
                    throw ObjectStoreError(.serverError, store: displayName, key: prefix.isEmpty ? nil : prefix,
                                           cause: "the listing said it was truncated but gave no continuation token; the listing stopped")
                }
                // A token seen before would list the same pages forever.
                guard seen.insert(next).inserted else {
                    throw ObjectStoreError(.serverError, store: displayName, key: prefix.isEmpty ? nil : prefix,
                                           cause: "the listing repeated continuation token \"\(next.prefix(64))\" after \(seen.count) pages; the server is misbehaving, so the listing stopped")
                }
                token = next
            }
        } while token != nil
        return objects
    }

    package func delete(keys: [String]) throws {
        for key in keys { try validate(key: key, metadata: [:]) }
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(start + 1000, keys.count)]
            start += batch.count
            let xml = "<Delete><Quiet>true</Quiet>"
                + batch.map { "<Object><Key>\(S3XML.escape($0))</Key></Object>" }.joined() + "</Delete>"
            let body = Array(xml.utf8)
            let response = try configuration.retry.run { _ in
                try body.withUnsafeBytes { raw in
                    try request("POST", key: nil, query: [(name: "delete", value: "")],
                                headers: [("Content-Type", "application/xml"), ("Content-MD5", Self.md5Base64(raw))], body: raw)
                }
            }
            let result = S3XML(response.body)
            if let failed = result.elements("Error").first {
                let item = S3XML(failed)
                throw ObjectStoreError(.serverError, store: displayName, key: item.first("Key"),
                                       cause: "\(item.first("Code") ?? "Error"): \(item.first("Message") ?? "delete failed")",
                                       serverCode: item.first("Code"))
            }
        }
    }

    // MARK: Requests

    /// Returns the stored object's ETag (nil when the answer had none).
    func putObject(key: String, body: UnsafeRawBufferPointer, metadata: [String: String], contentType: String,
                   condition: WriteCondition = .none, handle: CurlHandle?) throws -> String? {
        let md5 = Insecure.MD5.hash(data: body)
        let headers = [("Content-Type", contentType), ("Content-MD5", Data(md5).base64EncodedString())]
            + (condition.header.map { [$0] } ?? []) + metadata.map { ("x-amz-meta-\($0.key)", $0.value) }
        return try configuration.retry.run { attempt in
            do {
                return try request("PUT", key: key, headers: headers, body: body, bodyIsBound: true, handle: handle).headers["etag"]
            } catch let error as ObjectStoreError where attempt > 0 && error.code == .preconditionFailed {
                // An earlier attempt stored these bytes but its answer was lost: the object's
                // ETag is then their MD5 (a plain PutObject's ETag).
                let ours = "\"\(Hex.encode(md5))\""
                guard let info = try head(key: key), info.etag == ours else { throw error }
                return ours
            }
        }
    }

    /// Runs `body` on `given`, or on an idle handle of the pool (kept open for connection reuse).
    func withHandle<T>(_ given: CurlHandle?, _ body: (CurlHandle) throws -> T) throws -> T {
        if let given { return try body(given) }
        let handle = try idleHandles.withLock { handles.popLast() } ?? CurlHandle()
        defer { idleHandles.withLock { handles.append(handle) } }
        return try body(handle)
    }
}
