import CLibdeflate
import Crypto
import Foundation
import Support

extension S3Store {
    /// Signs and sends one request, once; maps HTTP and transport failures to `ObjectStoreError`.
    /// A 2xx answer whose body is an `<Error>` document is a failure too.
    ///
    /// `bodyIsBound` says a signed header (Content-MD5) already pins the body, so the payload is
    /// sent as UNSIGNED-PAYLOAD: hashing every part with SHA-256 as well cost a fifth of the
    /// upload's CPU and added no protection.
    func request(_ method: String, key: String?, query: [(name: String, value: String)] = [],
                 headers: [(String, String)] = [], body: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                 bodyIsBound: Bool = false, stream: BodyStream? = nil, handle: CurlHandle? = nil) throws -> HTTPResponse {
        let path = "/\(bucket)" + (key.map { "/\($0)" } ?? "")
        let payloadHash = bodyIsBound ? "UNSIGNED-PAYLOAD" : Hex.encode(SHA256.hash(data: body))
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
        // 409 ConditionalRequestConflict: two conditional writes raced and this one lost.
        case "PreconditionFailed", "ConditionalRequestConflict", "HTTP 412": kind = .preconditionFailed
        default: kind = response.status == 412 ? .preconditionFailed : .serverError
        }
        return ObjectStoreError(kind, store: displayName, key: key, cause: cause, serverCode: xml.first("Code"),
                                httpStatus: response.status)
    }

    // MARK: Helpers

    static func md5Base64(_ bytes: UnsafeRawBufferPointer) -> String {
        Data(Insecure.MD5.hash(data: bytes)).base64EncodedString()
    }

    static func crc32Base64(_ bytes: UnsafeRawBufferPointer) -> String {
        let crc = bytes.baseAddress.map { libdeflate_crc32(0, $0, bytes.count) } ?? 0
        return Data([UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]).base64EncodedString()
    }

    func validatePrefix(_ prefix: String) throws {
        if prefix.utf8.count > 1024 || prefix.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw ObjectStoreError.invalidKey(store: displayName, key: prefix, cause: "a prefix is at most 1024 bytes of printable characters")
        }
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
            throw ObjectStoreError.invalidKey(store: displayName, key: key,
                                              cause: "object keys must be 1 to 1024 bytes long, not \(key.utf8.count)")
        }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw ObjectStoreError.invalidKey(store: displayName, key: key,
                                              cause: "the key contains a control character (NUL, newline, …); use printable characters")
        }
        // curl would resolve `.` and `..` in the URL path and address another key.
        if key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }) {
            throw ObjectStoreError.invalidKey(store: displayName, key: key, cause: "keys with '.' or '..' between slashes are not supported")
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
