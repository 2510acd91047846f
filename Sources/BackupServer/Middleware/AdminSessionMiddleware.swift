import Foundation
import Hummingbird

/// The admin page's session: the cookie `POST /admin/session` set, checked like a bearer
/// token. The verdict goes in the context; the page renders the sign-in form when it is not
/// `.admin`. A refused cookie takes from the peer's failure bucket.
struct AdminSessionMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    static let cookieName = "backstream_admin"
    let authenticator: AdminAuthenticator
    let failures: TokenBucket

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let token = request.cookies[Self.cookieName]?.value.removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 }
        var outcome = await authenticator.authenticate(authorization: token.map { "Bearer \($0)" })
        if token != nil, case .unauthorized = outcome, failures.take("addr:" + context.peer) != nil {
            outcome = .unauthorized("too many failed attempts; retry later")
        }
        var context = context
        context.session = AdminSession(outcome: outcome, hadToken: token != nil)
        if case .admin(let userID) = outcome { context.identity = userID }
        return try await next(request, context)
    }
}
