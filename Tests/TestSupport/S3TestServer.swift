import Foundation

/// The moto_server that scripts/test.sh starts (signature checking on), seen through the
/// BACKSTREAM_TEST_S3_* variables it exports.
package struct S3TestServer: Sendable {
    package let endpoint: String
    package let accessKey: String
    package let secretKey: String
    package let region: String

    package struct Missing: Error, CustomStringConvertible {
        package let description: String
    }

    /// Fails (never skips) when the server is not there: these tests need the real peer.
    package init() throws {
        let env = ProcessInfo.processInfo.environment
        func value(_ name: String) throws -> String {
            guard let v = env[name], !v.isEmpty else {
                throw Missing(description: "\(name) is not set: run the tests through scripts/test.sh, which starts moto_server")
            }
            return v
        }
        endpoint = try value("BACKSTREAM_TEST_S3_ENDPOINT")
        accessKey = try value("BACKSTREAM_TEST_S3_ACCESS_KEY")
        secretKey = try value("BACKSTREAM_TEST_S3_SECRET_KEY")
        region = env["BACKSTREAM_TEST_S3_REGION"] ?? "us-east-1"
    }

    /// What a client needs in its environment to reach the server as the test user.
    package var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_REGION": region,
         "AWS_DEFAULT_REGION": region, "AWS_ENDPOINT_URL": endpoint, "AWS_CONFIG_FILE": "/dev/null",
         "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true", "BACKSTREAM_STORE": ""]
    }

    /// Runs the real AWS CLI against the server.
    package func aws(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(["aws", "--endpoint-url", endpoint] + arguments, environment: environment)
    }

    /// Creates a bucket with a unique name and returns it.
    package func makeBucket(_ label: String) throws -> String {
        let name = "\(label)-\(UUID().uuidString.prefix(8).lowercased())"
        let result = try aws(["s3api", "create-bucket", "--bucket", name])
        guard result.status == 0 else { throw Missing(description: "create-bucket failed: \(result.stderrText)") }
        return name
    }
}
