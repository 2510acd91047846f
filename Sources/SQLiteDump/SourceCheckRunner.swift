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
    private var foreignKeys: ThreadResult<(violations: Int?, digest: String)>?
    private var integrity: ThreadResult<[String]>?
    private let foreignKeyConnection: Connection
    private let integrityConnection: Connection

    /// Opens both connections and pins their snapshot; the caller must call this inside the window
    /// where no writer can commit.
    /// - Parameter cacheKiB: both connections' page cache; foreign_key_check, whose seeks into
    ///   parent tables repeat, gets two thirds, integrity_check (each page about once from 4 MiB
    ///   up) the rest.
    init(databasePath: String, busyTimeoutMilliseconds: Int32, cacheKiB: Int) throws {
        let foreignKeyShare = max(256, cacheKiB * 2 / 3)
        foreignKeyConnection = try Self.reader(databasePath, busyTimeoutMilliseconds, cacheKiB: foreignKeyShare)
        integrityConnection = try Self.reader(databasePath, busyTimeoutMilliseconds, cacheKiB: max(256, cacheKiB - foreignKeyShare))
    }

    private static func reader(_ path: String, _ busy: Int32, cacheKiB: Int) throws -> Connection {
        let db = try Connection(path: path, readOnly: true, busyTimeoutMilliseconds: busy)
        try db.harden()
        try db.execute("PRAGMA cache_size=-\(cacheKiB); BEGIN")
        _ = try db.scalarInt("SELECT count(*) FROM main.sqlite_schema")
        return db
    }

    /// Starts both checks.
    func start() {
        foreignKeys = ThreadResult("check-fk") { [self] in try SourceChecks.foreignKeys(foreignKeyConnection) }
        integrity = ThreadResult("check-integrity") { [self] in try SourceChecks.integrity(integrityConnection) }
    }

    /// Waits for both checks; a cancellation interrupts them.
    func results(cancellation: Cancellation?) throws -> SourceChecks {
        guard let foreignKeys, let integrity else { throw DumpError(.cancelled, "the source checks did not run") }
        while !(foreignKeys.join(timeout: 0.1) && integrity.join(timeout: 0.1)) {
            if cancellation?.isCancelled == true {
                stop()
                throw DumpError(.cancelled, "interrupted while checking the source database")
            }
        }
        let (violations, digest) = try foreignKeys.value()
        return SourceChecks(foreignKeyViolations: violations, foreignKeyDigest: digest, integrityOK: try integrity.value() == ["ok"])
    }

    /// Interrupts both checks and waits for their threads.
    func stop() {
        foreignKeyConnection.interrupt()
        integrityConnection.interrupt()
        _ = try? foreignKeys?.value()
        _ = try? integrity?.value()
    }

    deinit {
        try? foreignKeyConnection.execute("COMMIT")
        try? integrityConnection.execute("COMMIT")
    }
}
