#if canImport(Glibc)
import Glibc
#endif
import ChunkIO
import Compression
import Encryption
import Foundation
import ObjectStore
import SQLiteDump
import Support

/// What a restore (or a verify) read and checked.
package struct RestoreReport: Sendable {
    package var key: String
    package var rows: Int64 = 0
    package var sqlBytes = 0
    package var seconds = 0.0
    package var tables: [(name: String, expected: Int64, actual: Int64)] = []
    package var integrity = "not checked"
    package var foreignKeyViolations = 0
    package var expectedCRC32: UInt32?
    package var actualCRC32: UInt32 = 0
    package var complete = false
    /// The script does not start with Backstream's header (restored with `allowForeign`).
    package var foreign = false
    /// What the writer recorded about the source at backup time, when it did.
    package var sourceChecks: SourceChecks?
    package var problems: [String] = []
    /// Facts worth telling that are not problems (violations reproduced from the source).
    package var notes: [String] = []

    package var ok: Bool { problems.isEmpty }

    package var json: JSONValue {
        .object([
            ("key", .string(key)), ("ok", .bool(ok)), ("rows", .int(rows)), ("sql_bytes", .int(Int64(sqlBytes))),
            ("duration_ms", .int(Int64(seconds * 1000))), ("integrity_check", .string(integrity)),
            ("foreign_key_violations", .int(Int64(foreignKeyViolations))),
            ("content_crc32", .string(String(actualCRC32))),
            ("expected_crc32", expectedCRC32.map { .string(String($0)) } ?? .null),
            ("complete", .bool(complete)), ("foreign", .bool(foreign)),
            ("source_foreign_key_violations", sourceChecks.map { $0.foreignKeyViolations.map { .int(Int64($0)) } ?? .string("error") } ?? .null),
            ("tables", .array(tables.map { .object([("name", .string($0.name)), ("expected", .int($0.expected)), ("actual", .int($0.actual))]) })),
            ("problems", .array(problems.map(JSONValue.string))),
            ("notes", .array(notes.map(JSONValue.string))),
        ])
    }
}

/// `backstream restore` and the loading half of `verify`: download → decode (gzip, zstd or plain
/// SQL, told by the first bytes) → execute, streamed, into a fresh file that replaces the target
/// only when every check passed.
///
/// The object is untrusted: the loader runs it under `LoaderSandbox` into a file this process
/// created (O_EXCL|O_NOFOLLOW) beside the target, which is synced and renamed into place only
/// at the end, so a failure or a kill at any moment leaves the old target as it was.
package enum RestoreJob {
    package static func restore(_ entry: BackupEntry, from destination: BackupDestination, into target: String,
                               force: Bool, allowForeign: Bool = false, cancellation: Cancellation? = nil,
                               progress: ProgressSink.Report? = nil, identities: [AgeIdentity] = []) throws -> RestoreReport {
        var link = stat()
        if lstat(target, &link) == 0, (link.st_mode & S_IFMT) == S_IFLNK, !force {
            throw BackupError.targetIsSymbolicLink(path: target)
        }
        let fm = FileManager.default
        let sidecars = ["-wal", "-journal", "-shm"].map { target + $0 }
        let occupied = ((try? fm.attributesOfItem(atPath: target)[.size] as? Int) ?? 0) > 0
            || sidecars.prefix(2).contains { fm.fileExists(atPath: $0) }
        if occupied && !force { throw BackupError.targetExists(path: target) }

        let temporary = try RestoreFile.createTemporary(beside: target)
        do {
            // The new file is synced while the checks read it: the rename below still waits for both.
            let report = try load(entry, from: destination, into: temporary, accepts: allowForeign ? .anyScript : .backstream,
                                  cancellation: cancellation, progress: progress, syncBeforeReturning: true, identities: identities)
            guard report.ok else { throw BackupError.verificationFailed(key: entry.info.key, problems: report.problems) }
            for sidecar in sidecars { unlink(sidecar) }
            // rename replaces a symbolic link itself (with --force), never what it points to.
            guard rename(temporary, target) == 0 else {
                throw OutputError(code: .cannotRename, path: target, reason: String(cString: strerror(errno)))
            }
            RestoreFile.syncFolder(of: target)
            return report
        } catch {
            RestoreFile.remove(temporary)
            throw error
        }
    }

    /// Streams the backup's SQL to `sink` (standard output) and checks its frame and checksum;
    /// a script without Backstream's header is refused before any of it is written.
    package static func restoreSQL(_ entry: BackupEntry, from destination: BackupDestination, into sink: ChunkSink,
                                  allowForeign: Bool = false, progress: ProgressSink.Report? = nil,
                                  identities: [AgeIdentity] = []) throws -> RestoreReport {
        let frame = ScriptFrameSink(downstream: sink, name: entry.info.key, accepts: allowForeign ? .anyScript : .backstream)
        let crc = CRC32Sink(downstream: frame)
        try fetchSQL(entry, from: destination, identities: identities, into: crc, progress: progress)
        var report = RestoreReport(key: entry.info.key)
        report.actualCRC32 = crc.value
        report.sqlBytes = crc.bytes
        report.expectedCRC32 = entry.info.metadata[BackupMetadata.contentCRC32].flatMap { UInt32($0) }
        report.foreign = frame.isForeign
        report.complete = frame.complete
        if let expected = report.expectedCRC32, expected != crc.value {
            report.problems.append("content checksum \(crc.value) does not match the recorded \(expected)")
        }
        if !report.foreign && !report.complete {
            report.problems.append("the dump has no completion trailer: it was cut short")
        }
        return report
    }

    /// Loads the backup into the new database at `path` (created by the caller) and checks it
    /// against what the dump recorded; the caller owns the file.
    package static func load(_ entry: BackupEntry, from destination: BackupDestination, into path: String,
                            accepts: ScriptLoader.Source = .backstream, cancellation: Cancellation? = nil,
                            progress: ProgressSink.Report? = nil, syncBeforeReturning: Bool = false,
                            identities: [AgeIdentity] = []) throws -> RestoreReport {
        let started = Date()
        var report = RestoreReport(key: entry.info.key)
        var header: DumpHeader
        do {
            let loader = try ScriptLoader(databasePath: path, name: entry.info.key, accepts: accepts,
                                          maxStatementBytes: maxStatementBytes)
            loader.cancellation = cancellation
            let crc = CRC32Sink(downstream: loader)
            // Three threads: the download decrypts (when the object is age) and decompresses,
            // a second parses the SQL, the loader runs SQLite on a third. Decompression and
            // parsing together kept one core busy while SQLite waited for statements; two
            // decoded chunks in the hand-over queue keep both sides fed within the memory bound.
            let parsing = ThreadedSink(downstream: crc, depth: 2)
            let input = BackupEncryption.decrypting(Self.decoder(for: entry, downstream: parsing, chunkCapacity: 256 << 10),
                                                    entry: entry, identities: identities)
            do {
                try destination.store.get(key: entry.info.key, into: ProgressSink.counting(input, progress))
            } catch let error as DumpError where error.code == .invalidScript {
                // A flipped byte inside a zstd frame reaches the parser before the frame's checksum
                // (at its end) is read: before blaming the SQL, decode the whole object once more,
                // and report the damage when that is what it is.
                try checkPayload(entry, from: destination, identities: identities)
                throw error
            }
            header = loader.header
            report.rows = loader.rowsInserted
            report.complete = loader.trailer != nil
            report.foreign = loader.isForeign
            report.sourceChecks = loader.sourceChecks
            report.actualCRC32 = crc.value
            report.sqlBytes = crc.bytes
        }
        report.expectedCRC32 = entry.info.metadata[BackupMetadata.contentCRC32].flatMap { UInt32($0) }
        if let expected = report.expectedCRC32, expected != report.actualCRC32 {
            report.problems.append("content checksum \(report.actualCRC32) does not match the recorded \(expected)")
        }
        if report.foreign {
            report.notes.append("not a Backstream backup: loaded as a plain SQL script under the loader's sandbox, with no row counts or source checks to compare")
        } else if !report.complete {
            report.problems.append("the dump has no completion trailer: it was cut short")
        }
        let sync = syncBeforeReturning ? BackgroundSync(path: path) : nil
        let checks: RestoreChecks
        do {
            checks = try RestoreChecks.run(path: path, tables: header.tableRows)
        } catch {
            _ = try? sync?.wait()
            throw error
        }
        try sync?.wait()
        for table in checks.tables {
            report.tables.append(table)
            if table.actual != table.expected {
                report.problems.append("table \(table.name) has \(table.actual) rows, the dump header says \(table.expected)")
            }
        }
        report.problems += checks.problems
        report.integrity = checks.integrity.joined(separator: "; ")
        if checks.integrity != ["ok"] { report.problems.append("integrity_check: \(report.integrity)") }
        report.foreignKeyViolations = checks.foreignKeys.violations ?? 0
        compare(checks, with: report.sourceChecks, into: &report)
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Judges the restored database by the source's recorded state, not an ideal one: SQLite does
    /// not enforce foreign keys by default, and a faithful copy keeps the source's violations.
    static func compare(_ checks: RestoreChecks, with source: SourceChecks?, into report: inout RestoreReport) {
        let restored = checks.foreignKeys
        let describe = { (violations: Int?) in violations.map { "\($0) foreign key violations" } ?? "a foreign key check that cannot run (foreign key mismatch)" }
        guard let source else {
            if restored.violations != 0 {
                report.notes.append("the restored database has \(describe(restored.violations)); the backup records no source state to compare them with")
            }
            return
        }
        if source.foreignKeyViolations != restored.violations || source.foreignKeyDigest != restored.digest {
            report.problems.append("the restored database has \(describe(restored.violations)) (digest \(restored.digest)), "
                                   + "but the source had \(describe(source.foreignKeyViolations)) (digest \(source.foreignKeyDigest)) at backup time")
        } else if restored.violations != 0 {
            report.notes.append("the source had \(describe(source.foreignKeyViolations)) at backup time; the restored database reproduces exactly the same ones")
        }
        if !source.integrityOK && checks.integrity == ["ok"] {
            report.notes.append("the source failed integrity_check at backup time; the restored database passes it")
        }
    }

    /// Downloads the object and hands its plain SQL (decrypted, decoded) to `downstream`.
    static func fetchSQL(_ entry: BackupEntry, from destination: BackupDestination, identities: [AgeIdentity],
                         into downstream: ChunkSink, progress: ProgressSink.Report? = nil) throws {
        let input = BackupEncryption.decrypting(decoder(for: entry, downstream: downstream), entry: entry, identities: identities)
        try destination.store.get(key: entry.info.key, into: ProgressSink.counting(input, progress))
    }

    /// Decodes the whole object, discarding the SQL: throws the decoding stage's error when
    /// the object is damaged.
    static func checkPayload(_ entry: BackupEntry, from destination: BackupDestination, identities: [AgeIdentity]) throws {
        try fetchSQL(entry, from: destination, identities: identities, into: DiscardSink())
    }

    /// The decoder for the object's compression, handing plain SQL to `downstream`: gzip, or
    /// none. A new format adds its decoder here; the loader takes chunks from whichever runs.
    /// The format comes from the object's magic bytes, not its name (`PayloadFormat`).
    static func decoder(for entry: BackupEntry, downstream: ChunkSink, chunkCapacity: Int = 1 << 20) -> ChunkSink {
        PayloadDecoder(downstream: downstream, name: entry.info.key, chunkCapacity: chunkCapacity)
    }

    /// Largest statement the loader buffers: `BACKSTREAM_MAX_STATEMENT_MIB`, else 64 MiB.
    static var maxStatementBytes: Int {
        guard let text = ProcessInfo.processInfo.environment["BACKSTREAM_MAX_STATEMENT_MIB"], let mib = Int(text),
              (1...4096).contains(mib) else { return ScriptLoader.defaultMaxStatementBytes }
        return mib << 20
    }
}
