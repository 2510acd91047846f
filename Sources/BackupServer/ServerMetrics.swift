import CoreMetrics
import Foundation
import Prometheus

/// The server's Prometheus metrics, one series per database (`database` label), recorded
/// through swift-metrics into a registry of this server's own: two servers in one process
/// (the tests) never share counters, and nothing is bootstrapped globally.
package final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    package init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// The series of one database, created at zero so a scrape shows every database at once.
    package final class Series: Sendable {
        let backups: CoreMetrics.Counter
        let failed: CoreMetrics.Counter
        let skipped: CoreMetrics.Counter
        let uploadedBytes: CoreMetrics.Counter
        let lastSuccess: CoreMetrics.Gauge
        let lastDuration: CoreMetrics.Gauge

        init(database: String, factory: PrometheusMetricsFactory) {
            let d = [("database", database)]
            backups = Counter(label: "backstream_backups_total", dimensions: d, factory: factory)
            failed = Counter(label: "backstream_backups_failed_total", dimensions: d, factory: factory)
            skipped = Counter(label: "backstream_backups_skipped_total", dimensions: d, factory: factory)
            uploadedBytes = Counter(label: "backstream_uploaded_bytes_total", dimensions: d, factory: factory)
            lastSuccess = Gauge(label: "backstream_last_success_timestamp_seconds", dimensions: d, factory: factory)
            lastDuration = Gauge(label: "backstream_last_duration_seconds", dimensions: d, factory: factory)
            for counter in [backups, failed, skipped, uploadedBytes] { counter.increment(by: 0) }
            lastSuccess.record(0)
            lastDuration.record(0)
        }

        func record(_ run: BackupRun) {
            backups.increment()
            lastDuration.record(run.seconds)
            if run.ok {
                lastSuccess.record(run.finished.timeIntervalSince1970)
                uploadedBytes.increment(by: run.size ?? 0)
            } else {
                failed.increment()
            }
        }
    }

    package func series(database: String) -> Series { Series(database: database, factory: factory) }

    /// The text exposition format (version 0.0.4).
    package func render() -> [UInt8] { registry.emitToBuffer() }
}
