import Hummingbird

/// Work-starting requests (every method but GET) take a token of the authenticated
/// identity's bucket; reads are not limited. Runs after `AdminAuthMiddleware`.
struct WorkRateLimitMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let limiter: TokenBucket

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method != .get, let identity = context.identity, let wait = limiter.take("user:" + identity) {
            throw ErrorResponse.tooMany(wait)
        }
        return try await next(request, context)
    }
}
