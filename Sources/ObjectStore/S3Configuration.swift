import Foundation

/// Where an S3-compatible service is and how to talk to it.
package struct S3Configuration: Sendable {
    /// Scheme, host and optional port, no path: `https://s3.us-east-1.amazonaws.com`.
    package var endpoint: String
    package var region: String
    package var accessKeyId: String
    package var secretAccessKey: String
    package var sessionToken: String?
    /// Parts in flight at once for a multipart upload.
    package var maxConcurrentParts: Int
    /// Part size when the caller gives no size hint (at least 5 MiB).
    package var defaultPartSize: Int
    /// Declare CRC32 on multipart uploads and send each part's CRC-32, as the AWS SDKs do by
    /// default: the server checks every part and keeps a composite checksum of the object.
    package var partChecksums: Bool
    package var retry: RetryPolicy
    package var connectTimeout: TimeInterval
    /// A transfer that moves no byte for this long is abandoned (and retried).
    package var stallTimeout: TimeInterval

    /// Objects up to this size get new metadata by one CopyObject (S3's limit is 5 GiB);
    /// larger ones by a multipart copy. Lower it only to test the multipart path.
    package var multipartCopyThreshold = 5 * 1024 * 1024 * 1024
    /// Part size of that multipart copy (at least 5 MiB; raised to fit 10,000 parts).
    package var copyPartSize = 1024 * 1024 * 1024

    package static let minimumPartSize = 5 * 1024 * 1024
    /// Upload memory is parts in flight × part size. The process's code pages alone are ~41 MiB
    /// of RSS (Swift runtime, Foundation, libcurl, SQLite), so two parts of S3's 5 MiB minimum
    /// keep a whole backup — snapshot, gzip, age and upload — under 64 MiB, where 8 MiB parts
    /// reached 64.5 MiB encrypted. Against moto four in flight were no faster than two; R2 also
    /// throttles parallel parts of one object early. Raise both with BACKSTREAM_UPLOAD_PARTS and
    /// BACKSTREAM_PART_SIZE_MIB on high-latency links.
    package static let defaultPartSizeBytes = minimumPartSize
    package static let defaultConcurrentParts = 2
    package static let maximumParts = 10_000

    package init(endpoint: String, region: String, accessKeyId: String, secretAccessKey: String,
                sessionToken: String? = nil, maxConcurrentParts: Int? = nil,
                defaultPartSize: Int = Self.defaultPartSizeBytes, partChecksums: Bool = true, retry: RetryPolicy = .standard,
                connectTimeout: TimeInterval = 10, stallTimeout: TimeInterval = 60) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.region = region
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.maxConcurrentParts = max(1, maxConcurrentParts ?? Self.defaultConcurrentParts)
        self.defaultPartSize = max(Self.minimumPartSize, defaultPartSize)
        self.partChecksums = partChecksums
        self.retry = retry
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
    }

    package var credentials: Credentials {
        Credentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken)
    }

    /// AWS S3 (or any S3-compatible service via `AWS_ENDPOINT_URL`) from the usual variables:
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION (us-east-1), and
    /// AWS_REQUEST_CHECKSUM_CALCULATION=when_required for a service that refuses CRC32 checksums
    /// (the AWS SDKs' own switch; Content-MD5 is sent either way).
    package static func fromEnvironment(_ environment: [String: String]) throws -> S3Configuration {
        let region = nonEmpty(environment["AWS_REGION"]) ?? nonEmpty(environment["AWS_DEFAULT_REGION"]) ?? "us-east-1"
        let endpoint = nonEmpty(environment["AWS_ENDPOINT_URL_S3"]) ?? nonEmpty(environment["AWS_ENDPOINT_URL"])
            ?? "https://s3.\(region).amazonaws.com"
        let (id, secret) = try keys(environment, id: "AWS_ACCESS_KEY_ID", secret: "AWS_SECRET_ACCESS_KEY", store: "S3")
        return S3Configuration(endpoint: endpoint, region: region, accessKeyId: id, secretAccessKey: secret,
                               sessionToken: nonEmpty(environment["AWS_SESSION_TOKEN"]),
                               maxConcurrentParts: try uploadParts(environment),
                               defaultPartSize: try partSize(environment),
                               partChecksums: try checksumCalculation(environment))
    }

    /// BACKSTREAM_UPLOAD_PARTS: parts in flight (1–64; 1 still fills one part while sending another).
    static func uploadParts(_ environment: [String: String]) throws -> Int? {
        guard let text = nonEmpty(environment["BACKSTREAM_UPLOAD_PARTS"]) else { return nil }
        guard let n = Int(text), (1...64).contains(n) else {
            throw ObjectStoreError(.invalidArgument, store: "upload settings", key: nil,
                                   cause: "BACKSTREAM_UPLOAD_PARTS=\(text) is not a number from 1 to 64")
        }
        return n
    }

    /// AWS_REQUEST_CHECKSUM_CALCULATION: `when_supported` (the default) or `when_required`.
    static func checksumCalculation(_ environment: [String: String]) throws -> Bool {
        guard let text = nonEmpty(environment["AWS_REQUEST_CHECKSUM_CALCULATION"]) else { return true }
        switch text.lowercased() {
        case "when_supported": return true
        case "when_required": return false
        default:
            throw ObjectStoreError(.invalidArgument, store: "upload settings", key: nil,
                                   cause: "AWS_REQUEST_CHECKSUM_CALCULATION=\(text) is neither when_supported nor when_required")
        }
    }

    /// BACKSTREAM_PART_SIZE_MIB: multipart part size in MiB (5–5120).
    static func partSize(_ environment: [String: String]) throws -> Int {
        guard let text = nonEmpty(environment["BACKSTREAM_PART_SIZE_MIB"]) else { return defaultPartSizeBytes }
        guard let n = Int(text), (5...5120).contains(n) else {
            throw ObjectStoreError(.invalidArgument, store: "upload settings", key: nil,
                                   cause: "BACKSTREAM_PART_SIZE_MIB=\(text) is not a number from 5 to 5120")
        }
        return n * 1024 * 1024
    }

    /// Cloudflare R2: endpoint from R2_ACCOUNT_ID, region `auto`, keys from R2_ACCESS_KEY_ID and
    /// R2_SECRET_ACCESS_KEY (falling back to the AWS_* names).
    package static func r2FromEnvironment(_ environment: [String: String]) throws -> S3Configuration {
        guard let account = nonEmpty(environment["R2_ACCOUNT_ID"]) else {
            throw ObjectStoreError(.missingConfiguration, store: "R2", key: nil,
                                   cause: "R2_ACCOUNT_ID is not set; set it to the Cloudflare account id that owns the bucket")
        }
        let id = nonEmpty(environment["R2_ACCESS_KEY_ID"]) ?? environment["AWS_ACCESS_KEY_ID"]
        let secret = nonEmpty(environment["R2_SECRET_ACCESS_KEY"]) ?? environment["AWS_SECRET_ACCESS_KEY"]
        let (key, secretKey) = try keys(["ID": id ?? "", "SECRET": secret ?? ""], id: "ID", secret: "SECRET", store: "R2",
                                        names: ("R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"))
        return S3Configuration(endpoint: "https://\(account).r2.cloudflarestorage.com", region: "auto",
                               accessKeyId: key, secretAccessKey: secretKey,
                               maxConcurrentParts: try uploadParts(environment), defaultPartSize: try partSize(environment),
                               // R2 documents composite CRC32 but it is not tested here; Content-MD5 is.
                               partChecksums: false)
    }

    private static func keys(_ environment: [String: String], id: String, secret: String, store: String,
                             names: (String, String)? = nil) throws -> (String, String) {
        let (idName, secretName) = names ?? (id, secret)
        guard let accessKey = nonEmpty(environment[id]), let secretKey = nonEmpty(environment[secret]) else {
            throw ObjectStoreError(.missingConfiguration, store: store, key: nil,
                                   cause: "\(idName) and \(secretName) must both be set to an access key of the bucket")
        }
        return (accessKey, secretKey)
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
