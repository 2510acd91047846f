import Hummingbird
import Logging

/// The cron trigger's bearer secret (CRON_SECRET). A state-changing GET without a secret would
/// be open to any <img> tag: refused (403) when none is configured. A wrong secret takes from
/// the peer's failure bucket; accepted triggers share one bucket of their own.
struct CronSecretMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let secret: String?
    let failures: TokenBucket
    let limiter: TokenBucket
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let secret else {
            throw ErrorResponse("the cron trigger is disabled: the server has no CRON_SECRET configured", status: .forbidden)
        }
        let token = request.headers[.authorization].flatMap(AdminAuthenticator.bearer)
        guard let token, ConstantTime.equals(token, secret) else {
            if let wait = failures.take("addr:" + context.peer) { throw ErrorResponse.tooMany(wait) }
            logger.notice("cron request refused", metadata: ["peer": "\(context.peer)", "reason": "\(token == nil ? "missing bearer token" : "wrong secret")"])
            throw ErrorResponse.unauthorized()
        }
        if let wait = limiter.take("cron") { throw ErrorResponse.tooMany(wait) }
        return try await next(request, context)
    }
}
