import Hummingbird

/// `GET /api/admin/databases`: the fleet, one entry per database, with its last outcome.
/// Each database's backups are under `/api/admin/databases/{name}/backup` (`BackupsController`).
struct DatabasesController {
    typealias Context = ServerRequestContext
    let coordinator: BackupCoordinator

    func addRoutes(to group: RouterGroup<Context>) {
        group.get(use: list)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> DatabasesAnswer {
        DatabasesAnswer(databases: await coordinator.snapshots().map(DatabaseAnswer.init))
    }
}
