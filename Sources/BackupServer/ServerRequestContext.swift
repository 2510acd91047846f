import Hummingbird

/// The request context: Hummingbird's basic one, the peer address the failure limit keys on,
/// and what the auth middleware found out.
package struct ServerRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The peer's IP address ("unknown" for a Unix socket or the in-process test client).
    package let peer: String
    /// The admin identity a bearer token proved (`AdminAuthMiddleware`).
    package var identity: String?
    /// The admin page's cookie session verdict (`AdminSessionMiddleware`).
    var session: AdminSession?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
        closeConnection = { [channel = source.channel] in channel.close(promise: nil) }
    }

    /// Closes this request's connection (a stalled download).
    package let closeConnection: @Sendable () -> Void

    /// Answers keep the guide's key order.
    package var responseEncoder: some ResponseEncoder { OrderedJSONEncoder() }
}

/// The admin page's cookie, checked like a bearer token.
struct AdminSession: Sendable {
    let outcome: AuthOutcome
    /// Whether the request carried a (non-empty) session cookie at all.
    let hadToken: Bool
}
