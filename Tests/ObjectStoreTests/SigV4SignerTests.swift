import Foundation
import Testing
@testable import ObjectStore

/// The AWS SigV4 test suite and S3 requests signed by botocore, from `Resources/sigv4`.
struct SigV4SignerTests {
    static let folder = Bundle.module.url(forResource: "Resources", withExtension: nil)?
        .appendingPathComponent("sigv4").path ?? "Resources/sigv4 missing from the test bundle"
    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        .filter { $0.hasSuffix(".req") }.map { String($0.dropLast(4)) }.sorted()

    @Test func vectorsArePresent() {
        #expect(Self.names.count >= 15, "expected the SigV4 vectors in \(Self.folder)")
    }

    @Test(arguments: names)
    func signsLikeTheReference(_ name: String) throws {
        let request = try Self.parse(try read(name, "req"))
        let service = name.hasPrefix("s3-") ? "s3" : "service"
        let signer = SigV4Signer(credentials: Credentials(accessKeyId: "AKIDEXAMPLE",
                                                          secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                 region: "us-east-1", service: service)
        let amzDate = request.headers.first { $0.name.lowercased() == "x-amz-date" }?.value ?? ""
        let signature = signer.sign(request, amzDate: amzDate)
        if let creq = try? read(name, "creq") { #expect(signature.canonicalRequest == creq) }
        if let sts = try? read(name, "sts") { #expect(signature.stringToSign == sts) }
        #expect(signature.authorization == (try read(name, "authz")))
    }

    @Test func queryValuesAreFullyEncoded() {
        let query = SigV4Signer.canonicalQuery([("prefix", "backups/"), ("uploads", ""), ("a b", "x+y")])
        #expect(query == "a%20b=x%2By&prefix=backups%2F&uploads=")
    }

    @Test func pathSegmentsAreEncodedOnceAndNotNormalised() {
        #expect(URIEncoding.encodePath("/b/a b:c+d/ü/../x") == "/b/a%20b%3Ac%2Bd/%C3%BC/../x")
    }

    @Test func credentialsNeverPrintTheSecret() {
        let credentials = Credentials(accessKeyId: "AKID", secretAccessKey: "s3cr3t-value")
        #expect(!"\(credentials)".contains("s3cr3t-value"))
    }

    private func read(_ name: String, _ ext: String) throws -> String {
        try String(contentsOfFile: "\(Self.folder)/\(name).\(ext)", encoding: .utf8)
    }

    /// `METHOD target HTTP/1.1`, header lines, a blank line, the body. The payload hash is the
    /// x-amz-content-sha256 header when present, else that of the body.
    static func parse(_ text: String) throws -> SigV4Signer.Request {
        let parts = text.components(separatedBy: "\n\n")
        let lines = parts[0].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = try #require(lines.first)
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let path = String(target.prefix { $0 != "?" })
        let rawQuery = target.dropFirst(path.count + 1)
        let query: [(name: String, value: String)] = rawQuery.isEmpty ? [] : rawQuery.split(separator: "&").map { pair in
            let name = String(pair.prefix { $0 != "=" })
            return (name: name, value: String(pair.dropFirst(name.count + 1)))
        }
        let headers = lines.dropFirst().filter { !$0.isEmpty }.map { line in
            let name = String(line.prefix { $0 != ":" })
            return (name: name, value: String(line.dropFirst(name.count + 1)))
        }
        let body = parts.count > 1 ? parts[1...].joined(separator: "\n\n") : ""
        let hash = headers.first { $0.name.lowercased() == "x-amz-content-sha256" }?.value
            ?? (body.isEmpty ? SigV4Signer.emptyPayloadHash : "")
        return SigV4Signer.Request(method: method, path: path, query: query, headers: headers, payloadHash: hash)
    }
}
