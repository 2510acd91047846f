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
            let result = try await coordinator.backup(trigger: .scheduled, userID: nil)
            return BackupAnswer(result, withMetadata: false)
        } catch {
            throw ErrorResponse.failure(error, "the backup", logger: logger)
        }
    }
}
