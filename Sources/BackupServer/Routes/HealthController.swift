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
        let c = coordinator
        let lastRun = await c.lastRun, lastSuccess = await c.lastSuccess, next = await c.nextScheduledRun, running = await c.running
        return HealthAnswer(
            status: lastRun.map { $0.ok ? "ok" : "failing" } ?? "ok",
            schedule: configuration.schedule?.expression ?? "off",
            nextRun: next.map(BackupMetadata.iso8601),
            running: running.map { .init(started: BackupMetadata.iso8601($0.started), trigger: $0.trigger.rawValue) },
            lastBackup: lastRun.map(RunAnswer.init),
            lastSuccess: lastSuccess.map { BackupMetadata.iso8601($0.finished) })
    }

    @Sendable func metrics(_ request: Request, context: Context) async throws -> Response {
        let c = coordinator
        let total = await c.backupsTotal, failed = await c.backupsFailedTotal, bytes = await c.uploadedBytesTotal
        let lastSuccess = await c.lastSuccess, lastRun = await c.lastRun
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        metric("backstream_backups_total", "counter", "Backups attempted by this server (scheduled, cron endpoint and admin).", String(total))
        metric("backstream_backups_failed_total", "counter", "Backups that failed.", String(failed))
        metric("backstream_last_success_timestamp_seconds", "gauge", "Unix time the last successful backup finished (0: none yet).",
               lastSuccess.map { String(format: "%.3f", $0.finished.timeIntervalSince1970) } ?? "0")
        metric("backstream_last_duration_seconds", "gauge", "Duration of the last backup, successful or not.",
               lastRun.map { String(format: "%.3f", $0.seconds) } ?? "0")
        metric("backstream_uploaded_bytes_total", "counter", "Compressed bytes uploaded by successful backups.", String(bytes))
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
