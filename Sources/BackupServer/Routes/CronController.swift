import Hummingbird
import Logging

/// `GET /api/cron/backup`: the external scheduler's trigger (Vercel-style cron), behind
/// `CronSecretMiddleware`.
struct CronController {
    typealias Context = ServerRequestContext
    let coordinator: BackupCoordinator
    let logger: Logger

    func addRoutes(to group: RouterGroup<Context>) {
        group.get(use: backup)
    }

    @Sendable func backup(_ request: Request, context: Context) async throws -> BackupAnswer {
        do {
            // A fleet's cron names the database: /api/cron/backup?database=NAME.
            guard let name = request.uri.queryParameters.get("database") else {
                let result = try await coordinator.backup(trigger: .scheduled, userID: nil)
                return BackupAnswer(result, withMetadata: false)
            }
            guard let database = await coordinator.database(named: name) else {
                throw ServerError.notFound("no database of that name: GET /api/admin/databases lists them")
            }
            let result = try await coordinator.backup(database, trigger: .scheduled, userID: nil, scheduled: nil).outcome()
            return BackupAnswer(result, withMetadata: false)
        } catch {
            throw ErrorResponse.failure(error, "the backup", logger: logger)
        }
    }
}
