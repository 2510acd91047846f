import Backup
import Foundation
import Hummingbird

/// `GET /healthz` (JSON) and `GET /metrics` (Prometheus text): no credentials, no secrets.
struct HealthController {
    typealias Context = ServerRequestContext
    let configuration: ServerConfiguration
    let coordinator: BackupCoordinator

    func addRoutes(to router: Router<Context>) {
        router.get("/healthz", use: health)
        router.get("/metrics", use: metrics)
    }

    @Sendable func health(_ request: Request, context: Context) async throws -> HealthAnswer {
        let snapshots = await coordinator.snapshots()
        if snapshots.count == 1, let only = snapshots.first, configuration.fleet == nil {
            return HealthAnswer(
                status: only.status, schedule: only.database.schedule?.expression ?? "off",
                nextRun: only.nextScheduledRun.map(BackupMetadata.iso8601),
                running: only.running.map(HealthAnswer.Running.init),
                lastBackup: only.lastRun.map(RunAnswer.init), lastSuccess: only.lastSuccess.map { BackupMetadata.iso8601($0.finished) })
        }
        // A fleet: the same fields over all databases (the latest run, the soonest next one),
        // and the names of those whose last run failed.
        let failing = snapshots.filter { $0.status == "failing" }.map(\.database.name)
        let lastRun = snapshots.compactMap(\.lastRun).max { $0.finished < $1.finished }
        let lastSuccess = snapshots.compactMap(\.lastSuccess).map(\.finished).max()
        let running = snapshots.compactMap(\.running).min { $0.started < $1.started }
        var answer = HealthAnswer(
            status: failing.isEmpty ? "ok" : "failing", schedule: "per database",
            nextRun: snapshots.compactMap(\.nextScheduledRun).min().map(BackupMetadata.iso8601),
            running: running.map(HealthAnswer.Running.init),
            lastBackup: lastRun.map(RunAnswer.init), lastSuccess: lastSuccess.map(BackupMetadata.iso8601))
        answer.fleet = .init(databases: snapshots.count, failing: failing)
        return answer
    }

    @Sendable func metrics(_ request: Request, context: Context) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: coordinator.metrics.render())))
    }
}
