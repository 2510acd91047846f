import Backup
import Fleet
import Foundation
import Support

/// What the server knows about one database of its fleet: the run in progress (one per
/// database at a time), how the last ones went, when the next is due, and the back-off of a
/// database whose backups keep failing. Only state: `BackupCoordinator` runs the jobs.
package actor DatabaseCoordinator {
    package struct Running: Sendable {
        /// When it took a slot of the budget; until then, when it was asked for.
        package var started: Date
        package let trigger: BackupJob.Trigger
        let cancellation: Cancellation
        /// Waiting for a slot of the budget (not backing up yet).
        package var queued = true
    }

    package private(set) var database: FleetDatabase
    let openSource: DumpJob.SourceOpener?
    let metrics: ServerMetrics.Series
    package private(set) var running: Running?
    package private(set) var lastRun: BackupRun?
    package private(set) var lastSuccess: BackupRun?
    package private(set) var nextScheduledRun: Date?
    package private(set) var consecutiveFailures = 0
    /// Scheduled runs due before this are skipped (not claimed, so another replica may run them).
    package private(set) var backoffUntil: Date?
    /// Set when a reload dropped the database: its scheduler stops, a running backup finishes.
    package private(set) var removed = false

    /// The first back-off after a failure, doubled per further failure up to `maximumBackoff`.
    static let firstBackoff: TimeInterval = 60
    static let maximumBackoff: TimeInterval = 3600

    init(database: FleetDatabase, openSource: DumpJob.SourceOpener?, metrics: ServerMetrics.Series) {
        self.database = database
        self.openSource = openSource
        self.metrics = metrics
    }

    var name: String { database.name }

    func update(_ database: FleetDatabase) { self.database = database }
    func markRemoved() { removed = true }
    func setNextScheduledRun(_ date: Date?) { nextScheduledRun = date }

    /// Marks a run as started; a second one while it runs is refused (409).
    func begin(trigger: BackupJob.Trigger, at now: Date) throws(ServerError) -> Cancellation {
        if let running { throw .busy(started: running.started, holder: nil) }
        let cancellation = Cancellation()
        running = Running(started: now, trigger: trigger, cancellation: cancellation)
        return cancellation
    }

    /// The run `begin` reserved took a slot and starts now.
    func markStarted(at now: Date) {
        running?.started = now
        running?.queued = false
    }

    /// Ends the run `begin` started; `run` is nil when nothing was attempted here (another
    /// replica held the lease, or the run was already done).
    func end(_ run: BackupRun?) {
        running = nil
        guard let run else { return }
        metrics.record(run)
        lastRun = run
        if run.ok {
            lastSuccess = run
            consecutiveFailures = 0
            backoffUntil = nil
        } else {
            consecutiveFailures += 1
            let delay = min(Self.maximumBackoff, Self.firstBackoff * pow(2, Double(min(consecutiveFailures - 1, 16))))
            backoffUntil = run.finished.addingTimeInterval(delay)
        }
    }

    /// Whether a scheduled run due at `due` is skipped for back-off (and counts it).
    func skipsForBackoff(_ due: Date) -> Bool {
        guard let until = backoffUntil, due < until else { return false }
        metrics.skipped.increment()
        return true
    }

    /// The scheduler's run of this database in flight (backing up, or watching another
    /// replica's lease): a later due time is not started beside it.
    private var scheduledInFlight = false

    func startScheduled() -> Bool {
        if scheduledInFlight { return false }
        scheduledInFlight = true
        return true
    }

    func endScheduled() { scheduledInFlight = false }

    /// Everything the status answers show, read in one hop.
    package struct Snapshot: Sendable {
        package let database: FleetDatabase
        /// The backup in progress; nil while it only waits for a slot (`queuedSince`).
        package var running: Running? { reserved?.queued == false ? reserved : nil }
        package var queuedSince: Date? { reserved?.queued == true ? reserved?.started : nil }
        let reserved: Running?
        package let lastRun: BackupRun?
        package let lastSuccess: BackupRun?
        package let nextScheduledRun: Date?
        package let consecutiveFailures: Int
        package let backoffUntil: Date?

        /// "ok" until a run fails; "failing" while the last one did.
        package var status: String { lastRun.map { $0.ok ? "ok" : "failing" } ?? "ok" }
    }

    package func snapshot() -> Snapshot {
        Snapshot(database: database, reserved: running, lastRun: lastRun, lastSuccess: lastSuccess, nextScheduledRun: nextScheduledRun,
                 consecutiveFailures: consecutiveFailures, backoffUntil: backoffUntil)
    }

    func cancelRunning() { running?.cancellation.cancel() }
}
