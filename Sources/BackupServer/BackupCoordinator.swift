import Backup
import ChunkIO
import D1Source
import Fleet
import Foundation
import Logging
import Support
import Synchronization

/// Runs the fleet's backups: at most `maxConcurrent` at once in the whole process (granted in
/// due order), one per database at a time, each under a lease in the store when replicas
/// share it, so every scheduled run happens exactly once across them. Jobs run on threads of
/// their own (`BlockingWork`); this actor holds the fleet and hands out work.
package actor BackupCoordinator {
    /// How one request for a backup ended.
    package enum RunResult: Sendable {
        case backedUp(BackupJob.Outcome)
        /// Another replica holds the run's lease and it has not expired: watch it until it is
        /// done or expires (then take it over).
        case heldElsewhere(Lease)
        /// The run was already done (or failed) by some replica: nothing to do.
        case alreadyDone(Lease)

        /// The backup this request ran; a run another replica holds or finished answers 409,
        /// as a second trigger on one server does.
        package func outcome() throws(ServerError) -> BackupJob.Outcome {
            switch self {
            case .backedUp(let outcome): return outcome
            case .heldElsewhere(let lease), .alreadyDone(let lease):
                throw .busy(started: nil, holder: "replica \(lease.holder)")
            }
        }
    }

    private let configuration: ServerConfiguration
    private let logger: Logger
    private let alerts: AlertWebhook?
    package let metrics = ServerMetrics()
    private let budget: WorkBudget
    private let leases: LeaseManager?
    private var databases: [String: DatabaseCoordinator] = [:]
    private(set) var maxConcurrent: Int
    private var shuttingDown = false

    package init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        alerts = configuration.alertWebhook.map { AlertWebhook(url: $0, logger: logger) }
        maxConcurrent = configuration.maxConcurrent
        budget = WorkBudget(limit: configuration.maxConcurrent)
        leases = configuration.leases.map {
            LeaseManager(store: $0.destination.store, prefix: $0.destination.prefix, holder: $0.holder, ttl: $0.ttl,
                         now: { [clock = configuration.clock] in clock.now() }, settle: $0.confirm)
        }
        for database in configuration.databases {
            databases[database.name] = DatabaseCoordinator(database: database, openSource: configuration.opener(for: database),
                                                           metrics: metrics.series(database: database.name))
        }
    }

    /// Every database, by name.
    package var all: [DatabaseCoordinator] {
        databases.keys.sorted().compactMap { databases[$0] }
    }

    package func database(named name: String) -> DatabaseCoordinator? { databases[name] }

    /// Every database's state, by name, for the status answers and the admin page.
    package func snapshots() async -> [DatabaseCoordinator.Snapshot] {
        var snapshots: [DatabaseCoordinator.Snapshot] = []
        for database in all { snapshots.append(await database.snapshot()) }
        return snapshots
    }

    /// How often a replica watching another's lease reads it again: a third of its lifetime.
    package var recheckInterval: TimeInterval { max(1, (configuration.leases?.ttl ?? 60) / 3) }

    /// Up to this long a replica waits, at random, before claiming a run that fell due: replicas
    /// wake on the same minute, and R2 takes one write a second per key (the rest get 429).
    package var claimJitter: TimeInterval { leases == nil ? 0 : 1 }

    /// The only database of a one-database server (the guide's paths); nil for a fleet.
    package var single: DatabaseCoordinator? { databases.count == 1 ? databases.values.first : nil }

    /// The guide's single-database trigger: backs up the only database.
    package func backup(trigger: BackupJob.Trigger, userID: String?) async throws -> BackupJob.Outcome {
        guard let only = single else {
            throw ServerError.notFound("this server backs up \(databases.count) databases: use /api/admin/databases/{name}/backup")
        }
        return try await backup(only, trigger: trigger, userID: userID, scheduled: nil).outcome()
    }

    /// Backs up and prunes one database. `scheduled` names the run (the lease and the key's
    /// time come from it); nil is a manual or cron trigger. `recheck`: another replica held
    /// the run, so read its lease before claiming (a GET, not a PUT, while it is alive).
    package func backup(_ database: DatabaseCoordinator, trigger: BackupJob.Trigger, userID: String?, scheduled: Date?,
                        recheck: Bool = false) async throws -> RunResult {
        if shuttingDown { throw ServerError.shuttingDown }
        let cancellation = try await database.begin(trigger: trigger, at: configuration.clock.now())
        guard await budget.acquire() else {
            await database.end(nil)
            throw CancellationError()
        }
        await database.markStarted(at: configuration.clock.now())
        let (result, attempted) = await claimAndRun(database, trigger: trigger, userID: userID, scheduled: scheduled,
                                                    recheck: recheck, cancellation: cancellation)
        await budget.release()
        await database.end(attempted)
        return try result.get()
    }

    /// The part of `backup` that holds a slot: claim, back up, finish the lease. Returns the
    /// run to record (nil when nothing was attempted here).
    private func claimAndRun(_ database: DatabaseCoordinator, trigger: BackupJob.Trigger, userID: String?, scheduled: Date?,
                             recheck: Bool, cancellation: Cancellation) async -> (Result<RunResult, any Error>, BackupRun?) {
        if shuttingDown { return (.failure(ServerError.shuttingDown), nil) }
        let fleetDatabase = await database.database
        let name = fleetDatabase.name
        let log = logger.with(database: name)
        var lease: Lease?
        if let leases {
            let run = scheduled.map(LeaseManager.runID(scheduled:)) ?? LeaseManager.manualRunID(now: configuration.clock.now())
            let attemptStarted = configuration.clock.now()
            do {
                if recheck, let current = try await BlockingWork.run({ try leases.read(database: name, run: run) }) {
                    if current.state != .running { return (.success(.alreadyDone(current)), nil) }
                    if current.expires > configuration.clock.now() { return (.success(.heldElsewhere(current)), nil) }
                }
                switch try await BlockingWork.run({ try leases.claim(database: name, run: run) }) {
                case .claimed(let claimed): lease = claimed
                case .held(let other): return (.success(.heldElsewhere(other)), nil)
                case .finished(let other): return (.success(.alreadyDone(other)), nil)
                }
            } catch {
                // The lease store is down or refuses us: the run fails here, named, and backs off.
                let failure = StageError.named(Self.leaseStage, error)
                return (.failure(failure), failed(failure, database: fleetDatabase, trigger: trigger, started: attemptStarted, log: log))
            }
        }

        let started = configuration.clock.now()
        let renewal = lease.map { keepRenewing($0, cancellation: cancellation) }
        log.info("backup started", metadata: ["trigger": "\(trigger.rawValue)", "lease": "\(lease?.key ?? "none")"])
        do {
            let options = jobOptions(fleetDatabase, trigger: trigger, userID: userID, cancellation: cancellation,
                                     keyDate: scheduled, logger: log)
            let source = fleetDatabase.source, destination = fleetDatabase.destination
            let opener = database.openSource
            let result = try await BlockingWork.run {
                var options = options
                options.openSource = opener
                return try BackupJob.run(databasePath: source, destination: destination, options: options)
            }
            let held = await renewal?.stop() ?? lease
            if let held { await finishLease(held, state: .done, backupKey: result.key, log: log) }
            let run = BackupRun(trigger: trigger.rawValue, started: started, finished: configuration.clock.now(),
                                key: result.key, size: result.size, deletedCount: result.deletedCount, error: nil)
            log.info("backup completed", metadata: [
                "trigger": "\(trigger.rawValue)", "key": "\(result.key)", "size": "\(result.size)",
                "deleted_count": "\(result.deletedCount ?? 0)", "duration_ms": "\(Int(run.seconds * 1000))",
            ])
            return (.success(.backedUp(result)), run)
        } catch let busy as BackupError where busy.code == .busy {
            // Another process (a CLI backup) holds the database's lock: not a failed backup.
            if let held = await renewal?.stop() ?? lease { await finishLease(held, state: .failed, backupKey: nil, log: log) }
            return (.failure(ServerError.busy(started: nil, holder: busy.holder)), nil)
        } catch let exists as BackupError where exists.code == .alreadyExists {
            // The store refused to overwrite the run's key: another replica wrote it.
            let held = await renewal?.stop() ?? lease
            log.notice("the run's backup already exists; nothing was overwritten", metadata: ["detail": "\(exists)"])
            guard let held else { return (.failure(exists), nil) }
            await finishLease(held, state: .done, backupKey: nil, log: log)
            return (.success(.alreadyDone(held)), nil)
        } catch {
            let held = await renewal?.stop() ?? lease
            if let held { await finishLease(held, state: .failed, backupKey: nil, log: log) }
            let run = failed(error, database: fleetDatabase, trigger: trigger, started: started, log: log)
            return (.failure(error), run)
        }
    }

    static let leaseStage = "claiming the run's lease"

    /// Records a failed run: /healthz, the admin page and the webhook get a sentence without
    /// paths or upstream text; the log keeps the detail under the same id.
    private func failed(_ error: any Error, database: FleetDatabase, trigger: BackupJob.Trigger, started: Date, log: Logger) -> BackupRun {
        let runID = PublicError.newRequestID()
        let run = BackupRun(trigger: trigger.rawValue, started: started, finished: configuration.clock.now(),
                            key: nil, size: nil, deletedCount: nil,
                            error: "\(PublicError.describe(error).sentence) (request id \(runID))")
        log.error("backup failed", metadata: ["trigger": "\(trigger.rawValue)", "request_id": "\(runID)", "error": "\(error)"])
        if trigger == .scheduled, let alerts {
            // `serve DB` names the file in its alerts, as before; a fleet the database.
            let named = configuration.fleet == nil ? database.source : database.name
            Task { await alerts.send(run: run, database: named) }
        }
        return run
    }

    private func jobOptions(_ database: FleetDatabase, trigger: BackupJob.Trigger, userID: String?, cancellation: Cancellation,
                            keyDate: Date?, logger: Logger) -> BackupJob.Options {
        var options = BackupJob.Options()
        options.trigger = trigger
        options.userID = userID
        options.retention = database.retention
        options.cancellation = cancellation
        // Concurrent backups share the cores rather than each taking all of them.
        options.threads = max(1, configuration.threads / max(1, min(maxConcurrent, databases.count)))
        options.dialect = database.dialect
        options.compression = database.compression
        options.level = database.level
        options.recipients = database.recipients
        options.keyDate = keyDate
        if D1Location.matches(database.source) { options.activityLog = false }
        options.warn = { message in logger.warning("backup warning", metadata: ["detail": "\(message)"]) }
        return options
    }

    /// Renews `lease` every third of its lifetime while the backup runs. A lease another
    /// replica took over (ours expired) cancels the backup: its key will be written by them.
    private func keepRenewing(_ lease: Lease, cancellation: Cancellation) -> LeaseRenewal {
        let renewal = LeaseRenewal(lease)
        guard let leases, let ttl = configuration.leases?.ttl else { return renewal }
        let log = logger.with(database: lease.database)
        let clock = configuration.clock
        renewal.start(Task {
            var current = lease
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(ttl * 1000 / 3)))
                if Task.isCancelled { break }
                do {
                    let held = current
                    current = try await BlockingWork.run { try leases.renew(held) }
                    renewal.update(current)
                } catch let error as LeaseError where error.code == .lost {
                    log.error("lost the lease to another replica: cancelling this backup", metadata: ["lease": "\(lease.key)"])
                    cancellation.cancel()
                    renewal.markLost()
                    break
                } catch {
                    log.warning("could not renew the lease", metadata: ["lease": "\(lease.key)", "error": "\(error)"])
                    if clock.now() >= current.expires {
                        log.error("the lease expired unrenewed: cancelling this backup", metadata: ["lease": "\(lease.key)"])
                        cancellation.cancel()
                        renewal.markLost()
                        break
                    }
                }
            }
        })
        return renewal
    }

    private func finishLease(_ lease: Lease, state: LeaseState, backupKey: String?, log: Logger) async {
        guard let leases else { return }
        do {
            _ = try await BlockingWork.run { try leases.finish(lease, state: state, backupKey: backupKey) }
        } catch {
            // An unfinished lease expires: another replica then sees the key exists (done) or reruns.
            log.warning("could not mark the lease finished", metadata: ["lease": "\(lease.key)", "error": "\(error)"])
        }
    }

    /// Deletes leases of runs that finished more than `age` ago (they only matter while a
    /// run's replicas may still look at it); a failure is logged and retried next time.
    package func sweepLeases(age: TimeInterval = 86_400) async {
        guard let leases else { return }
        let cutoff = configuration.clock.now().addingTimeInterval(-age)
        do {
            let deleted = try await BlockingWork.run { try leases.sweep(finishedBefore: cutoff) }
            if deleted > 0 { logger.info("deleted finished leases", metadata: ["count": "\(deleted)"]) }
        } catch {
            logger.warning("could not delete finished leases", metadata: ["error": "\(error)"])
        }
    }

    /// Applies a reloaded fleet: new databases join, dropped ones stop being scheduled (a
    /// running backup of theirs finishes), changed ones take effect from their next run.
    package func reload(_ newDatabases: [FleetDatabase], maxConcurrent newLimit: Int) async -> (added: [String], removed: [String]) {
        var added: [String] = [], removed: [String] = []
        let names = Set(newDatabases.map(\.name))
        for (name, coordinator) in databases where !names.contains(name) {
            await coordinator.markRemoved()
            databases[name] = nil
            removed.append(name)
        }
        for database in newDatabases {
            if let existing = databases[database.name] {
                await existing.update(database)
            } else {
                databases[database.name] = DatabaseCoordinator(database: database, openSource: configuration.opener(for: database),
                                                               metrics: metrics.series(database: database.name))
                added.append(database.name)
            }
        }
        maxConcurrent = newLimit
        await budget.setLimit(newLimit)
        return (added.sorted(), removed.sorted())
    }

    /// Refuses new backups, waits up to `grace` for running ones, then cancels them (their
    /// uploads are aborted, leaving no object) and waits for them to stop.
    package func drain(grace: Duration) async {
        shuttingDown = true
        guard await anyRunning() else { return }
        logger.notice("waiting for running backups before shutting down", metadata: ["grace": "\(grace)"])
        if !(await waitForIdle(timeout: grace)) {
            logger.warning("cancelling the running backups: shutdown grace period is over")
            for database in databases.values { await database.cancelRunning() }
            _ = await waitForIdle(timeout: .seconds(30))
        }
    }

    private func anyRunning() async -> Bool {
        for database in databases.values where await database.running != nil { return true }
        return false
    }

    private func waitForIdle(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while await anyRunning() {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return true
    }
}

/// The lease a running backup holds, as renewals replace it.
final class LeaseRenewal: Sendable {
    private struct State {
        var lease: Lease
        var lost = false
        var task: Task<Void, Never>?
    }

    private let state: Mutex<State>

    init(_ lease: Lease) { state = Mutex(State(lease: lease)) }

    /// The task that renews; `stop` cancels and awaits it.
    func start(_ task: Task<Void, Never>) { state.withLock { $0.task = task } }
    func update(_ lease: Lease) { state.withLock { $0.lease = lease } }
    func markLost() { state.withLock { $0.lost = true } }

    /// Stops renewing; the current lease, or nil when it was lost to another replica.
    func stop() async -> Lease? {
        let task = state.withLock { $0.task }
        task?.cancel()
        await task?.value
        return state.withLock { $0.lost ? nil : $0.lease }
    }
}

extension Logger {
    func with(database: String) -> Logger {
        var copy = self
        copy[metadataKey: "database"] = "\(database)"
        return copy
    }
}
