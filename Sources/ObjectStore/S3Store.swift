import ChunkIO
import Crypto
import Foundation

/// An S3-compatible bucket (AWS S3, Cloudflare R2, moto) over libcurl with path-style addressing.
public final class S3Store: ObjectStore, @unchecked Sendable {
    public let bucket: String
    public let configuration: S3Configuration
    let signer: SigV4Signer
    private let host: String
    private let idleHandles = NSLock()
    private var handles: [CurlHandle] = []

    public init(bucket: String, configuration: S3Configuration) throws {
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

    public var displayName: String {
        configuration.endpoint.contains(".r2.cloudflarestorage.com") ? "r2://\(bucket)" : "s3://\(bucket)"
    }

    // MARK: ObjectStore

    public func put(key: String, bytes: [UInt8], metadata: [String: String], contentType: String) throws {
        try validate(key: key, metadata: metadata)
        try bytes.withUnsafeBytes { body in
            try putObject(key: key, body: body, metadata: metadata, contentType: contentType, handle: nil)
        }
    }

    public func makeUpload(key: String, metadata: [String: String], contentType: String, sizeHint: Int?) throws -> ObjectUpload {
        try validate(key: key, metadata: metadata)
        return MultipartUpload(store: self, key: key, metadata: metadata, contentType: contentType,
                               partSize: MultipartUpload.partSize(sizeHint: sizeHint, defaultSize: configuration.defaultPartSize))
    }

    public func get(key: String, into sink: ChunkSink) throws {
        let stream = BodyStream(sink: sink, pool: ChunkPool(size: 4, chunkCapacity: 1 << 20))
        do {
            // Once bytes reached the sink a retry would duplicate them, so only clean failures retry.
            _ = try configuration.retry.run { _ in
                do {
                    return try request("GET", key: key, stream: stream)
                } catch var error as ObjectStoreError where stream.delivered > 0 {
                    error.isFinal = true
                    throw error
                }
            }
            try stream.flush()
        } catch {
            sink.abort(error)
            throw error
        }
        try sink.finish()
    }

    public func head(key: String) throws -> ObjectInfo? {
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

    public func list(prefix: String) throws -> [ObjectInfo] {
        var objects: [ObjectInfo] = []
        var token: String?
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
            token = page.first("IsTruncated") == "true" ? page.first("NextContinuationToken") : nil
        } while token != nil
        return objects
    }

    public func delete(keys: [String]) throws {
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

    func putObject(key: String, body: UnsafeRawBufferPointer, metadata: [String: String], contentType: String,
                   handle: CurlHandle?) throws {
        let headers = [("Content-Type", contentType), ("Content-MD5", Self.md5Base64(body))]
            + metadata.map { ("x-amz-meta-\($0.key)", $0.value) }
        _ = try configuration.retry.run { _ in
            try request("PUT", key: key, headers: headers, body: body, handle: handle)
        }
    }

    /// Signs and sends one request, once; maps HTTP and transport failures to `ObjectStoreError`.
    /// A 2xx answer whose body is an `<Error>` document is a failure too.
    func request(_ method: String, key: String?, query: [(name: String, value: String)] = [],
                 headers: [(String, String)] = [], body: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                 stream: BodyStream? = nil, handle: CurlHandle? = nil) throws -> HTTPResponse {
        let path = "/\(bucket)" + (key.map { "/\($0)" } ?? "")
        let payloadHash = Hex.encode(SHA256.hash(data: body))
        let amzDate = SigV4Signer.amzDate(Date())
        var signed: [(name: String, value: String)] = [("host", host), ("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash)]
        if let token = configuration.sessionToken { signed.append(("x-amz-security-token", token)) }
        signed += headers.map { (name: $0.0.lowercased(), value: $0.1) }
        let signature = signer.sign(.init(method: method, path: path, query: query, headers: signed, payloadHash: payloadHash),
                                    amzDate: amzDate)
        let queryString = SigV4Signer.canonicalQuery(query)
        let url = configuration.endpoint + URIEncoding.encodePath(path) + (query.isEmpty ? "" : "?\(queryString)")
        let wire = HTTPRequest(method: method, url: url,
                               headers: signed.filter { $0.name != "host" } + [("Authorization", signature.authorization)])
        let response = try withHandle(handle) { curl in
            try curl.perform(wire, body: body, stream: stream, connectTimeout: configuration.connectTimeout,
                             stallTimeout: configuration.stallTimeout, store: displayName, key: key)
        }
        if !(200..<300).contains(response.status) || (method != "GET" && S3XML(response.body).isErrorDocument) {
            throw error(for: response, key: key)
        }
        return response
    }

    private func withHandle<T>(_ given: CurlHandle?, _ body: (CurlHandle) throws -> T) throws -> T {
        if let given { return try body(given) }
        let handle = try idleHandles.withLock { handles.popLast() } ?? CurlHandle()
        defer { idleHandles.withLock { handles.append(handle) } }
        return try body(handle)
    }

    func error(for response: HTTPResponse, key: String?) -> ObjectStoreError {
        let xml = S3XML(response.body)
        let code = xml.first("Code") ?? (response.status == 404 ? "NotFound" : "HTTP \(response.status)")
        // HEAD answers carry no body, so a 403 there cannot say whether the key or the policy is wrong.
        let message = xml.first("Message")
            ?? (response.status == 403 ? "no detail in the answer; the credentials are wrong or lack permission" : nil)
        let cause = message.map { "\(code): \($0)" } ?? code
        let kind: ObjectStoreError.Code
        switch code {
        case "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed":
            kind = .wrongCredentials
        case "AccessDenied", "Forbidden", "HTTP 403": kind = .accessDenied
        case "NoSuchBucket": kind = .noSuchBucket
        case "NoSuchKey", "NotFound", "NoSuchUpload": kind = .notFound
        default: kind = .serverError
        }
        return ObjectStoreError(kind, store: displayName, key: key, cause: cause, serverCode: xml.first("Code"),
                                httpStatus: response.status)
    }

    // MARK: Helpers

    static func md5Base64(_ bytes: UnsafeRawBufferPointer) -> String {
        Data(Insecure.MD5.hash(data: bytes)).base64EncodedString()
    }

    static func metadata(from headers: [String: String]) -> [String: String] {
        var metadata: [String: String] = [:]
        for (name, value) in headers where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = value
        }
        return metadata
    }

    /// S3 sends metadata as HTTP headers: names must be header tokens and values printable ASCII.
    func validate(key: String, metadata: [String: String]) throws {
        if key.isEmpty || key.utf8.count > 1024 {
            throw ObjectStoreError(.invalidArgument, store: displayName, key: key, cause: "object keys must be 1 to 1024 bytes long")
        }
        var total = 0
        for (name, value) in metadata {
            total += name.utf8.count + value.utf8.count
            let nameOK = !name.isEmpty && name.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || $0 == "_" }
            let valueOK = value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
            if !nameOK || !valueOK {
                throw ObjectStoreError(.invalidArgument, store: displayName, key: key,
                                       cause: "metadata \"\(name)\" must have a lower-case name of letters, digits, '-' or '_' and a printable ASCII value")
            }
        }
        if total > 8 * 1024 {
            throw ObjectStoreError(.invalidArgument, store: displayName, key: key, cause: "metadata is \(total) bytes; the limit is 8 KiB")
        }
    }
}
