import ChunkIO
import Foundation
import Support
import SQLiteAccess

/// Runs the source checks on their own threads while the dump is written, on read-only
/// connections that see exactly the dump's snapshot, so they cost the dump little wall time.
///
/// Sharing the snapshot: with a rollback journal, the dump's shared lock keeps every writer
/// from committing, so a reader that starts after the dump's first read sees the same state.
/// In WAL mode a writer could commit between two readers' starts; the caller holds the write
/// lock on a gate connection (BEGIN IMMEDIATE) while the dump and these readers start.
final class SourceCheckRunner: @unchecked Sendable {
    private let lock = NSLock()
    private var foreignKeys: Result<(violations: Int?, digest: String), any Error>?
    private var integrity: Result<[String], any Error>?
    private let group = DispatchGroup()
    private let foreignKeyConnection: Connection
    private let integrityConnection: Connection

    /// Opens both connections and pins their snapshot; the caller must call this inside the window
    /// where no writer can commit.
    init(databasePath: String, busyTimeoutMilliseconds: Int32) throws {
        foreignKeyConnection = try Self.reader(databasePath, busyTimeoutMilliseconds)
        integrityConnection = try Self.reader(databasePath, busyTimeoutMilliseconds)
    }

    private static func reader(_ path: String, _ busy: Int32) throws -> Connection {
        let db = try Connection(path: path, readOnly: true, busyTimeoutMilliseconds: busy)
        try db.harden()
        try db.execute("PRAGMA cache_size=-512; BEGIN")
        _ = try db.scalarInt("SELECT count(*) FROM main.sqlite_schema")
        return db
    }

    /// Starts both checks.
    func start() {
        group.enter()
        Thread.detachNewThread { [self] in
            let result = Result { () throws in try SourceChecks.foreignKeys(foreignKeyConnection) }
            lock.withLock { foreignKeys = result }
            group.leave()
        }
        group.enter()
        Thread.detachNewThread { [self] in
            let result = Result { () throws in try SourceChecks.integrity(integrityConnection) }
            lock.withLock { integrity = result }
            group.leave()
        }
    }

    /// Waits for both checks; a cancellation interrupts them.
    func results(cancellation: Cancellation?) throws -> SourceChecks {
        while group.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if cancellation?.isCancelled == true {
                stop()
                throw DumpError(.cancelled, "interrupted while checking the source database")
            }
        }
        let (fk, lines) = lock.withLock { (foreignKeys, integrity) }
        guard let fk, let lines else { throw DumpError(.cancelled, "the source checks did not run") }
        let (violations, digest) = try fk.get()
        return SourceChecks(foreignKeyViolations: violations, foreignKeyDigest: digest, integrityOK: try lines.get() == ["ok"])
    }

    /// Interrupts both checks and waits for their threads.
    func stop() {
        foreignKeyConnection.interrupt()
        integrityConnection.interrupt()
        group.wait()
    }

    deinit {
        try? foreignKeyConnection.execute("COMMIT")
        try? integrityConnection.execute("COMMIT")
    }
}
