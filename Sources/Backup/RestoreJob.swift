#if canImport(Glibc)
import Glibc
#endif
import ChunkIO
import Compression
import Foundation
import ObjectStore
import SQLiteDump

/// What a restore (or a verify) read and checked.
public struct RestoreReport: Sendable {
    public var key: String
    public var rows: Int64 = 0
    public var sqlBytes = 0
    public var seconds = 0.0
    public var tables: [(name: String, expected: Int64, actual: Int64)] = []
    public var integrity = "not checked"
    public var foreignKeyViolations = 0
    public var expectedCRC32: UInt32?
    public var actualCRC32: UInt32 = 0
    public var complete = false
    public var problems: [String] = []

    public var ok: Bool { problems.isEmpty }

    public var json: JSONValue {
        .object([
            ("key", .string(key)), ("ok", .bool(ok)), ("rows", .int(rows)), ("sql_bytes", .int(Int64(sqlBytes))),
            ("duration_ms", .int(Int64(seconds * 1000))), ("integrity_check", .string(integrity)),
            ("foreign_key_violations", .int(Int64(foreignKeyViolations))),
            ("content_crc32", .string(String(actualCRC32))),
            ("expected_crc32", expectedCRC32.map { .string(String($0)) } ?? .null),
            ("complete", .bool(complete)),
            ("tables", .array(tables.map { .object([("name", .string($0.name)), ("expected", .int($0.expected)), ("actual", .int($0.actual))]) })),
            ("problems", .array(problems.map(JSONValue.string))),
        ])
    }
}

/// `backstream restore` and the loading half of `verify`: download → gunzip → execute, streamed,
/// into a fresh file that replaces the target only when every check passed.
public enum RestoreJob {
    public static func restore(_ entry: BackupEntry, from destination: BackupDestination, into target: String,
                               force: Bool, cancellation: Cancellation? = nil,
                               progress: ProgressSink.Report? = nil) throws -> RestoreReport {
        let fm = FileManager.default
        let sidecars = ["-wal", "-journal", "-shm"].map { target + $0 }
        let occupied = ((try? fm.attributesOfItem(atPath: target)[.size] as? Int) ?? 0) > 0
            || sidecars.prefix(2).contains { fm.fileExists(atPath: $0) }
        if occupied && !force { throw BackupError.targetExists(path: target) }

        let directory = (target as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((target as NSString).lastPathComponent).restore-\(getpid())"
        removeDatabaseFiles(temporary)
        do {
            let report = try load(entry, from: destination, into: temporary, cancellation: cancellation, progress: progress)
            guard report.ok else { throw BackupError.verificationFailed(key: entry.info.key, problems: report.problems) }
            for sidecar in sidecars { unlink(sidecar) }
            guard rename(temporary, target) == 0 else {
                throw OutputError(code: .cannotRename, path: target, reason: String(cString: strerror(errno)))
            }
            return report
        } catch {
            removeDatabaseFiles(temporary)
            throw error
        }
    }

    /// Streams the backup's SQL to `sink` (standard output) and checks its checksum at the end.
    public static func restoreSQL(_ entry: BackupEntry, from destination: BackupDestination, into sink: ChunkSink,
                                  progress: ProgressSink.Report? = nil) throws -> RestoreReport {
        let crc = CRC32Sink(downstream: sink)
        let head: ChunkSink = entry.key.compressed ? try GzipDecoder(downstream: crc, name: entry.info.key) : crc
        try destination.store.get(key: entry.info.key, into: ProgressSink.counting(head, progress))
        var report = RestoreReport(key: entry.info.key)
        report.actualCRC32 = crc.value
        report.sqlBytes = crc.bytes
        report.expectedCRC32 = entry.info.metadata[BackupMetadata.contentCRC32].flatMap { UInt32($0) }
        report.complete = true
        if let expected = report.expectedCRC32, expected != crc.value {
            report.problems.append("content checksum \(crc.value) does not match the recorded \(expected)")
        }
        return report
    }

    /// Loads the backup into a new database at `path` and checks it; the caller owns the file.
    public static func load(_ entry: BackupEntry, from destination: BackupDestination, into path: String,
                            cancellation: Cancellation? = nil, progress: ProgressSink.Report? = nil) throws -> RestoreReport {
        let started = Date()
        var report = RestoreReport(key: entry.info.key)
        var header: DumpHeader
        do {
            let loader = try ScriptLoader(databasePath: path, name: entry.info.key)
            loader.cancellation = cancellation
            let crc = CRC32Sink(downstream: loader)
            let decoder: ChunkSink = entry.key.compressed
                ? try GzipDecoder(downstream: crc, name: entry.info.key, chunkCapacity: 256 << 10) : crc
            // Decoding and inserting run on their own thread while the download continues; two
            // chunks in the hand-over queue keep both busy without adding to the memory bound.
            try destination.store.get(key: entry.info.key, into: ProgressSink.counting(ThreadedSink(downstream: decoder, depth: 2), progress))
            header = loader.header
            report.rows = loader.rowsInserted
            report.complete = loader.trailer != nil
            report.actualCRC32 = crc.value
            report.sqlBytes = crc.bytes
        }
        report.expectedCRC32 = entry.info.metadata[BackupMetadata.contentCRC32].flatMap { UInt32($0) }
        if let expected = report.expectedCRC32, expected != report.actualCRC32 {
            report.problems.append("content checksum \(report.actualCRC32) does not match the recorded \(expected)")
        }
        if header.format != nil && !report.complete {
            report.problems.append("the dump has no completion trailer: it was cut short")
        }
        // integrity_check is the longest check: row counts and the foreign-key check run beside
        // it on a second read-only connection, so the checks take one core's time, not two.
        let tableRows = header.tableRows
        let side = CheckResults()
        let sideDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer { sideDone.signal() }
            do {
                let db = try Connection(path: path, readOnly: true)
                var counts: [Int64] = []
                for table in tableRows {
                    counts.append(try db.scalarInt("SELECT count(*) FROM main.\"\(table.name.replacingOccurrences(of: "\"", with: "\"\""))\""))
                }
                let violations = try db.scalarInt("SELECT count(*) FROM pragma_foreign_key_check")
                side.set(.success((counts, Int(violations))))
            } catch {
                side.set(.failure(error))
            }
        }
        let integrity = Result { () throws -> [String] in
            let db = try Connection(path: path, readOnly: true)
            let statement = try db.prepare("PRAGMA integrity_check")
            var lines: [String] = []
            while try statement.step() { lines.append(statement.string(0)) }
            return lines
        }
        sideDone.wait()
        let lines = try integrity.get()
        let (counts, violations) = try side.get()
        for (table, actual) in zip(tableRows, counts) {
            report.tables.append((table.name, table.rows, actual))
            if actual != table.rows {
                report.problems.append("table \(table.name) has \(actual) rows, the dump header says \(table.rows)")
            }
        }
        report.integrity = lines.joined(separator: "; ")
        if lines != ["ok"] { report.problems.append("integrity_check: \(report.integrity)") }
        report.foreignKeyViolations = violations
        if report.foreignKeyViolations > 0 {
            report.problems.append("\(report.foreignKeyViolations) foreign key violations")
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(path + suffix) }
    }
}

/// The row counts and foreign-key violations found on the checking thread.
private final class CheckResults: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<([Int64], Int), Error> = .failure(CancelledError())
    func set(_ value: Result<([Int64], Int), Error>) { lock.withLock { result = value } }
    func get() throws -> ([Int64], Int) { try lock.withLock { result }.get() }
}

/// `backstream verify`: a restore into a scratch file that is always deleted.
public enum VerifyJob {
    public static func run(_ entry: BackupEntry, from destination: BackupDestination, cancellation: Cancellation? = nil,
                           progress: ProgressSink.Report? = nil) throws -> RestoreReport {
        let scratch = NSTemporaryDirectory() + "/backstream-verify-\(getpid())-\(UUID().uuidString.prefix(8)).db"
        defer { RestoreJob.removeDatabaseFiles(scratch) }
        return try RestoreJob.load(entry, from: destination, into: scratch, cancellation: cancellation, progress: progress)
    }
}
