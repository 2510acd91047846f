import JWTKit

/// The claims of a Clerk-style session token that admin access depends on. Time and issuer
/// checks happen in `AdminAuthenticator` (with its skew), not in `verify`.
struct AdminClaims: JWTPayload {
    struct RoleHolder: Codable, Sendable {
        var role: String?
    }

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

    var isAdmin: Bool {
        role == "admin" || metadata?.role == "admin" || public_metadata?.role == "admin"
    }
}
