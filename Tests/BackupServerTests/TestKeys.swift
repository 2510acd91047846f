import Foundation
import JWTKit
import TestSupport

/// Claims the tests put in their session tokens (any field may be left out).
struct TestClaims: JWTPayload {
    struct RoleHolder: Codable, Sendable { var role: String? }
    var sub: SubjectClaim?
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var iss: IssuerClaim?
    var azp: String?
    var role: String?
    var metadata: RoleHolder?
    var public_metadata: RoleHolder?

    func verify(using algorithm: some JWTAlgorithm) async throws {}

    static let issuer = "https://clerk.backstream.test"
    static let party = "https://admin.backstream.test"

    /// A valid admin token unless a field is changed.
    static func admin(sub: String = "user_admin", role: String? = "admin", expiresIn: TimeInterval = 600) -> TestClaims {
        TestClaims(sub: SubjectClaim(value: sub), exp: ExpirationClaim(value: Date().addingTimeInterval(expiresIn)),
                   nbf: NotBeforeClaim(value: Date().addingTimeInterval(-30)), iat: nil, iss: IssuerClaim(value: issuer),
                   azp: party, role: role)
    }
}

/// An RSA key made in the test with openssl, the JWKS file the server reads, and a signer.
struct TestKeys: Sendable {
    let jwksFile: String
    let signer: JWTKeyCollection
    let kid: String

    static func make(in dir: TemporaryDirectory, kid: String = "test-key", name: String = "key") async throws -> TestKeys {
        let pemPath = dir.file("\(name).pem")
        let generated = try await HTTPClient.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pemPath])
        guard generated.status == 0 else { throw TestDatabaseError(description: "openssl genpkey failed: \(generated.stderrText)") }
        let privateKey = try Insecure.RSA.PrivateKey(pem: try String(contentsOfFile: pemPath, encoding: .utf8))
        let (modulus, exponent) = try privateKey.publicKey.getKeyPrimitives()
        let jwks = """
            {"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"\(kid)","n":"\(base64URL(modulus))","e":"\(base64URL(exponent))"}]}
            """
        let jwksFile = dir.file("\(name)-jwks.json")
        try jwks.write(toFile: jwksFile, atomically: true, encoding: .utf8)
        let signer = JWTKeyCollection()
        await signer.add(rsa: privateKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        return TestKeys(jwksFile: jwksFile, signer: signer, kid: kid)
    }

    func sign(_ claims: TestClaims) async throws -> String {
        try await signer.sign(claims, kid: JWKIdentifier(string: kid))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
