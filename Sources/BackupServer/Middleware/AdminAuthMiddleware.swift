import Hummingbird
import Logging

/// Admin authentication by `Authorization: Bearer` (static token or JWT). Success puts the
/// identity in the context. A failed attempt takes a token of its peer address's bucket
/// (429 once empty), so an authenticated caller is never held back by others' failures.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let authenticator: AdminAuthenticator
    let failures: TokenBucket
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let outcome = await authenticator.authenticate(authorization: request.headers[.authorization])
        if case .admin(let userID) = outcome {
            var context = context
            context.identity = userID
            return try await next(request, context)
        }
        if case .unavailable(let reason) = outcome {
            logger.warning("admin token not checked", metadata: ["path": "\(request.uri.path)", "reason": "\(reason)"])
            throw ErrorResponse(reason, status: .serviceUnavailable, headers: [.retryAfter: "5"])
        }
        if let wait = failures.take("addr:" + context.peer) { throw ErrorResponse.tooMany(wait) }
        switch outcome {
        case .forbidden(let reason):
            logger.notice("admin request forbidden", metadata: ["path": "\(request.uri.path)", "peer": "\(context.peer)", "reason": "\(reason)"])
            throw ErrorResponse("forbidden: \(reason)", status: .forbidden)
        case .unauthorized(let reason):
            logger.notice("admin request refused", metadata: ["path": "\(request.uri.path)", "peer": "\(context.peer)", "reason": "\(reason)"])
            throw ErrorResponse.unauthorized("unauthorized: \(reason)")
        default:
            throw ErrorResponse.unauthorized()
        }
    }
}
