import Crypto
import Foundation
import Support

/// Credentials for SigV4. `description` hides the secret so it cannot leak into logs.
package struct Credentials: Sendable, CustomStringConvertible {
    package var accessKeyId: String
    package var secretAccessKey: String
    package var sessionToken: String?

    package init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    package var description: String { "Credentials(accessKeyId: \(accessKeyId), secret: <hidden>)" }
}

/// AWS Signature Version 4 with S3's rules: the path is encoded once and never normalised.
package struct SigV4Signer: Sendable {
    /// A request as it goes on the wire, before encoding: `path` and query items are raw text.
    package struct Request: Sendable {
        package var method: String
        package var path: String
        package var query: [(name: String, value: String)]
        package var headers: [(name: String, value: String)]
        package var payloadHash: String

        package init(method: String, path: String, query: [(name: String, value: String)] = [],
                    headers: [(name: String, value: String)], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    package struct Signature: Sendable {
        package var canonicalRequest: String
        package var stringToSign: String
        package var authorization: String
    }

    package static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    package var credentials: Credentials
    package var region: String
    package var service: String

    package init(credentials: Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Signs `request`, whose headers must already hold `host` and `x-amz-date` (= `amzDate`,
    /// `yyyyMMdd'T'HHmmss'Z'`) and, with temporary credentials, `x-amz-security-token`.
    package func sign(_ request: Request, amzDate: String) -> Signature {
        let headers = Self.canonicalHeaders(request.headers)
        let signedHeaders = headers.map(\.name).joined(separator: ";")
        let canonicalRequest = [
            request.method,
            URIEncoding.encodePath(request.path),
            Self.canonicalQuery(request.query),
            headers.map { "\($0.name):\($0.value)\n" }.joined(),
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope,
            Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let signature = Hex.encode(hmac(key: signingKey(day: day), Array(stringToSign.utf8)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, authorization: authorization)
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    package static func amzDate(_ date: Date) -> String {
        // Clamped to years 1970–9999 so an absurd Date cannot trap the conversion to time_t.
        let interval = date.timeIntervalSince1970
        var seconds = interval.isFinite ? time_t(min(max(interval, 0), 253_402_300_799).rounded(.down)) : 0
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    private func signingKey(day: String) -> [UInt8] {
        var key = hmac(key: Array("AWS4\(credentials.secretAccessKey)".utf8), Array(day.utf8))
        for part in [region, service, "aws4_request"] {
            key = hmac(key: key, Array(part.utf8))
        }
        return key
    }

    private func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// Lower-case names sorted; repeated names joined with commas in order; values trimmed with
    /// inner runs of spaces collapsed.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let collapsed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[name.lowercased(), default: []].append(collapsed.trimmingCharacters(in: .whitespaces))
        }
        return merged.keys.sorted().map { name in (name, merged[name, default: []].joined(separator: ",")) }
    }

    /// Names and values encoded fully (a `/` in a value becomes `%2F`), sorted by name then value;
    /// an empty value keeps its `=`.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (URIEncoding.encode($0.name), URIEncoding.encode($0.value)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }
}
