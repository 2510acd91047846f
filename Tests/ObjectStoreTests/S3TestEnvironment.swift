import ChunkIO
import Foundation
import ObjectStore
import TestSupport

struct MissingTestServer: Error, CustomStringConvertible {
    let variable: String
    var description: String {
        "\(variable) is not set: the S3 tests need a real moto_server; run them through scripts/test.sh, which starts one and exports BACKSTREAM_TEST_S3_*"
    }
}

/// The moto_server that scripts/test.sh started, and a fresh bucket on it for one test.
struct S3TestEnvironment {
    let endpoint: String
    let accessKey: String
    let secretKey: String
    let region: String
    let bucket: String

    static let partSize = 5 * 1024 * 1024

    /// Fails (never skips) when the server is missing, so a green run always means S3 was tested.
    init() throws {
        let env = ProcessInfo.processInfo.environment
        func value(_ name: String) throws -> String {
            guard let value = env[name], !value.isEmpty else { throw MissingTestServer(variable: name) }
            return value
        }
        endpoint = try value("BACKSTREAM_TEST_S3_ENDPOINT")
        accessKey = try value("BACKSTREAM_TEST_S3_ACCESS_KEY")
        secretKey = try value("BACKSTREAM_TEST_S3_SECRET_KEY")
        region = env["BACKSTREAM_TEST_S3_REGION"] ?? "us-east-1"
        bucket = "bs-test-" + UUID().uuidString.prefix(8).lowercased()
        let created = try aws(["s3api", "create-bucket", "--bucket", bucket])
        if created.status != 0 { throw AWSCLIError(result: created) }
    }

    func configuration(endpoint: String? = nil, secret: String? = nil, retry: RetryPolicy = .standard,
                       concurrency: Int? = nil, partChecksums: Bool = true) -> S3Configuration {
        S3Configuration(endpoint: endpoint ?? self.endpoint, region: region, accessKeyId: accessKey,
                        secretAccessKey: secret ?? secretKey, maxConcurrentParts: concurrency,
                        defaultPartSize: Self.partSize, partChecksums: partChecksums, retry: retry,
                        connectTimeout: 5, stallTimeout: 20)
    }

    func store(endpoint: String? = nil, secret: String? = nil, retry: RetryPolicy = .standard,
               concurrency: Int? = nil, partChecksums: Bool = true) throws -> S3Store {
        try S3Store(bucket: bucket, configuration: configuration(endpoint: endpoint, secret: secret, retry: retry,
                                                                 concurrency: concurrency, partChecksums: partChecksums))
    }

    /// The real `aws` CLI, with the test credentials and no developer config.
    func aws(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(["aws", "--endpoint-url", endpoint, "--output", "json"] + arguments, environment: [
            "AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        ])
    }

    /// The object as `aws s3api get-object` reads it.
    func download(_ key: String) throws -> [UInt8] {
        let dir = try TemporaryDirectory("get")
        defer { dir.remove() }
        let result = try aws(["s3api", "get-object", "--bucket", bucket, "--key", key, dir.file("body")])
        if result.status != 0 { throw AWSCLIError(result: result) }
        return Array(try Data(contentsOf: URL(fileURLWithPath: dir.file("body"))))
    }

    /// `aws s3api head-object` as JSON (`ContentLength`, `Metadata`, ...).
    /// `aws s3api head-object`, with the stored checksums (ChecksumCRC32, …) in the answer.
    func headObject(_ key: String) throws -> [String: Any] {
        let result = try aws(["s3api", "head-object", "--bucket", bucket, "--key", key, "--checksum-mode", "ENABLED"])
        if result.status != 0 { throw AWSCLIError(result: result) }
        return try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any] ?? [:]
    }
}

struct AWSCLIError: Error, CustomStringConvertible {
    let result: ProcessResult
    var description: String { "aws exited with \(result.status): \(result.stderrText)" }
}

/// CRC-32 (IEEE, as zlib and S3 compute it), written here so the tests do not check the
/// uploader's checksums against its own code.
func crc32<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes { crc = crc32Table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    return ~crc
}

private let crc32Table: [UInt32] = (0..<256).map { index in
    (0..<8).reduce(UInt32(index)) { value, _ in value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
}

/// What S3 reports as ChecksumCRC32 of a multipart object: the CRC-32 of the parts' big-endian
/// CRC-32s, base64.
func compositeCRC32(_ bytes: [UInt8], partSize: Int) -> String {
    let partCRCs = stride(from: 0, to: bytes.count, by: partSize).flatMap { start -> [UInt8] in
        let crc = crc32(bytes[start..<min(start + partSize, bytes.count)])
        return [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
    }
    return bigEndianBase64(crc32(partCRCs))
}

func bigEndianBase64(_ crc: UInt32) -> String {
    Data([UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]).base64EncodedString()
}

/// Deterministic bytes that differ from part to part, so a misplaced part cannot go unnoticed.
func testBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes[i] = UInt8(truncatingIfNeeded: state)
    }
    return bytes
}

/// Feeds `bytes` to `sink` in chunks of `chunkSize`, then finishes it; aborts it on failure, as
/// the backup pipeline does.
func stream(_ bytes: [UInt8], into sink: ChunkSink, chunkSize: Int = 300_007, finish: Bool = true) throws {
    let pool = ChunkPool(size: 2, chunkCapacity: chunkSize)
    var offset = 0
    do {
        while offset < bytes.count {
            let chunk = try pool.take()
            let n = min(chunkSize, bytes.count - offset)
            bytes[offset..<offset + n].withUnsafeBytes { _ = chunk.append($0) }
            offset += n
            try sink.write(chunk)
        }
    } catch {
        sink.abort(error)
        throw error
    }
    if finish { try sink.finish() }
}
