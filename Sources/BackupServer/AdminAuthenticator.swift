#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import JWTKit
import Logging

/// Who may use the admin API: static tokens and/or RS256 JWTs checked against a JWKS.
package struct AdminAuthConfiguration: Sendable {
    package var staticTokens: [String] = []
    package var jwksURL: URL?
    package var jwksFile: String?
    package var issuer: String?
    package var authorizedParties: [String] = []
    /// Allowed clock skew for `exp` and `nbf`.
    package var leeway: TimeInterval = 5
    /// The longest lifetime a token may claim: `exp` at most this far after `iat`/`nbf` and
    /// after now (an `exp` of 1e300 is refused). BACKSTREAM_JWT_MAX_LIFETIME, in seconds.
    package var maxTokenLifetime: TimeInterval = 24 * 3600
    /// A JWKS URL is fetched again (a token signed by an unknown key) at most this often.
    package var jwksRefetchInterval: TimeInterval = 60
    /// Backoff of the fetch at start while the JWKS URL is unreachable: first and longest wait.
    package var jwksRetryInitial: TimeInterval = 1
    package var jwksRetryMax: TimeInterval = 60
    package init() {}

    var usesJWT: Bool { jwksURL != nil || jwksFile != nil }
}

/// The verdict on one Authorization header.
package enum AuthOutcome: Sendable, Equatable {
    case admin(userID: String)
    /// Missing or invalid credentials (401).
    case unauthorized(String)
    /// Valid credentials without the admin role (403).
    case forbidden(String)
    /// The signing keys are not available yet (JWKS unreachable): 503, not the caller's fault.
    case unavailable(String)
}

/// Checks `Authorization: Bearer …` the way a Clerk session token is checked: signature by a
/// JWKS key (RS256 only), `exp`/`nbf` with a small skew, `iss` pinned, `azp` among the
/// authorized parties when configured, then the admin role. Never logs or echoes a token.
package actor AdminAuthenticator {
    private let configuration: AdminAuthConfiguration
    private var keys: JWTKeyCollection?
    private var keysLoaded: Date?
    private var lastFetch: ContinuousClock.Instant?
    private var fetching: Task<Void, Never>?

    package init(configuration: AdminAuthConfiguration) {
        self.configuration = configuration
    }

    /// Loads a JWKS file now, so a bad file fails at start-up.
    package func loadKeyFile() async throws(ServerError) {
        guard configuration.jwksFile != nil else { return }
        try await loadKeys()
    }

    /// With a JWKS URL: fetches until the keys arrive, waiting `jwksRetryInitial` doubling to
    /// `jwksRetryMax` between attempts; returns when loaded or cancelled.
    package func keepLoadingKeys(logger: Logger) async {
        guard configuration.jwksFile == nil, configuration.jwksURL != nil else { return }
        var wait = max(0.01, configuration.jwksRetryInitial)
        while keys == nil && !Task.isCancelled {
            await refetch()
            if keys != nil { return }
            logger.warning("JWKS not available yet; tokens get 503 until it is", metadata: ["retry_in_s": "\(wait)"])
            try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
            wait = min(max(wait, configuration.jwksRetryMax), wait * 2)
        }
    }

    /// One fetch of the JWKS URL at a time; callers arriving meanwhile share it.
    private func refetch() async {
        if let fetching { return await fetching.value }
        let task = Task { _ = try? await self.loadKeys() }
        fetching = task
        lastFetch = .now
        await task.value
        fetching = nil
    }

    /// Loads the JWKS (file or URL).
    package func loadKeys() async throws(ServerError) {
        guard configuration.usesJWT else { return }
        let json: String
        if let file = configuration.jwksFile {
            do {
                json = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw .jwks("cannot read \(file): \(error.localizedDescription)")
            }
        } else if let url = configuration.jwksURL {
            json = try await Self.fetch(url)
        } else {
            return
        }
        let collection = JWTKeyCollection()
        do {
            try await collection.add(jwksJSON: json)
        } catch {
            throw .jwks("cannot use the key set: \(error)")
        }
        keys = collection
        keysLoaded = Date()
    }

    package func authenticate(authorization: String?) async -> AuthOutcome {
        guard let authorization, let token = Self.bearer(authorization) else {
            return .unauthorized("missing bearer token")
        }
        if let index = ConstantTime.matchesAny(token, configuration.staticTokens) {
            return .admin(userID: "admin-token-\(index + 1)")
        }
        guard configuration.usesJWT, token.split(separator: ".", omittingEmptySubsequences: false).count == 3 else {
            return .unauthorized("invalid token")
        }
        guard Self.algorithm(of: token) == "RS256" else { return .unauthorized("invalid token: only RS256 is accepted") }
        do {
            let claims = try await verify(token)
            return check(claims)
        } catch ServerError.jwks {
            return .unavailable("the signing keys (JWKS) are not available yet; retry shortly")
        } catch {
            return .unauthorized("invalid token: signature or format not accepted")
        }
    }

    private func verify(_ token: String) async throws -> AdminClaims {
        // Requests never fetch while the start-up loader retries: 503 until keys arrive.
        guard let keys else { throw ServerError.jwks("no keys") }
        do {
            return try await keys.verify(token, as: AdminClaims.self)
        } catch {
            // Perhaps a rotated key: fetch the JWKS again, at most once per interval however
            // many bad tokens arrive.
            guard configuration.jwksURL != nil, configuration.jwksFile == nil,
                  lastFetch.map({ ContinuousClock.now - $0 > .milliseconds(Int64(configuration.jwksRefetchInterval * 1000)) }) ?? true
            else { throw error }
            await refetch()
            guard let fresh = self.keys else { throw error }
            return try await fresh.verify(token, as: AdminClaims.self)
        }
    }

    private func check(_ claims: AdminClaims) -> AuthOutcome {
        let now = Date()
        guard let exp = claims.exp else { return .unauthorized("token has no exp claim") }
        if exp.value.addingTimeInterval(configuration.leeway) <= now { return .unauthorized("token expired") }
        if let nbf = claims.nbf, nbf.value.addingTimeInterval(-configuration.leeway) > now {
            return .unauthorized("token not valid yet")
        }
        // An absurd exp (1e300, year 99999) or a lifetime beyond the maximum is refused.
        let maximum = configuration.maxTokenLifetime + configuration.leeway
        let start = [claims.iat?.value, claims.nbf?.value, now].compactMap { $0 }.min() ?? now
        guard exp.value.timeIntervalSince1970.isFinite, exp.value.timeIntervalSince(now) <= maximum,
              exp.value.timeIntervalSince(start) <= maximum else {
            return .unauthorized("token lifetime exceeds the maximum of \(Int(configuration.maxTokenLifetime)) s")
        }
        guard let issuer = configuration.issuer, let iss = claims.iss?.value, ConstantTime.equals(iss, issuer) else {
            return .unauthorized("token issuer not accepted")
        }
        if !configuration.authorizedParties.isEmpty {
            guard let azp = claims.azp, configuration.authorizedParties.contains(azp) else {
                return .unauthorized("token authorized party not accepted")
            }
        }
        guard let subject = claims.sub?.value, !subject.isEmpty else { return .unauthorized("token has no subject") }
        guard claims.isAdmin else { return .forbidden("admin role required") }
        return .admin(userID: subject)
    }

    static func bearer(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// The `alg` of the token's header, read before any key is tried.
    static func algorithm(of token: String) -> String? {
        guard let first = token.split(separator: ".").first else { return nil }
        var base64 = first.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
              let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return header["alg"] as? String
    }

    static func fetch(_ url: URL) async throws(ServerError) -> String {
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let result: (Data, Int) = try await withCheckedContinuation { (continuation: CheckedContinuation<Result<(Data, Int), ServerError>, Never>) in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(returning: .failure(.jwks("cannot fetch \(url.absoluteString): \(error.localizedDescription)")))
                } else {
                    continuation.resume(returning: .success((data ?? Data(), (response as? HTTPURLResponse)?.statusCode ?? 0)))
                }
            }.resume()
        }.get()
        guard result.1 == 200 else { throw .jwks("\(url.absoluteString) answered HTTP \(result.1)") }
        return String(decoding: result.0, as: UTF8.self)
    }
}
