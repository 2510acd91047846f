import ChunkIO
import D1Source
import Encryption
import Foundation
import ObjectStore
import SQLiteDump
import Support

/// What a restore into D1 did.
package struct D1RestoreReport: Sendable {
    package var key: String
    package var target: String
    /// SQL bytes of the backup, and of the converted file D1 imported.
    package var sqlBytes = 0
    package var importedBytes = 0
    package var statements = 0
    /// Statements D1 refuses (transaction control, header pragmas, statistics) left out.
    package var dropped = 0
    package var queries = 0
    package var startBookmark = ""
    package var finalBookmark = ""
    package var seconds = 0.0
    package var notes: [String] = []

    package var json: JSONValue {
        .object([
            ("key", .string(key)), ("target", .string(target)), ("ok", .bool(true)),
            ("sql_bytes", .int(Int64(sqlBytes))), ("imported_bytes", .int(Int64(importedBytes))),
            ("statements", .int(Int64(statements))), ("dropped_statements", .int(Int64(dropped))),
            ("d1_queries", .int(Int64(queries))), ("d1_bookmark_before", .string(startBookmark)),
            ("d1_bookmark_after", .string(finalBookmark)), ("duration_ms", .int(Int64(seconds * 1000))),
            ("notes", .array(notes.map(JSONValue.string))),
        ])
    }
}

/// `restore KEY --into d1://…`: download → decode (as any restore) → convert to the d1 dialect
/// into a temporary file while its MD5 is computed → D1's import (init, upload, ingest, poll).
/// Memory holds a few chunks and one statement; the file holds the script. A database that
/// holds anything is refused unless `force`; a forced restore first reports the bookmark D1
/// can be rolled back to. Every failure is a `D1RestoreError` naming its stage.
package enum D1RestoreJob {
    package static func restore(_ entry: BackupEntry, from destination: BackupDestination, into location: D1Location,
                               force: Bool, options: D1Importer.Options = D1Importer.Options(),
                               progress: ProgressSink.Report? = nil, identities: [AgeIdentity] = [],
                               announce: (String) -> Void = { _ in }) throws -> D1RestoreReport {
        let started = Date()
        var report = D1RestoreReport(key: entry.info.key, target: location.description)
        let importer = try D1Importer(location: location, options: options)
        let objects = try importer.userObjects()
        if !objects.isEmpty {
            let listed = objects.joined(separator: ", ") + (objects.count == 5 ? ", …" : "")
            guard force else {
                var error = D1RestoreError(.check, "D1 database \(location) is not empty (\(listed)); an import would mix the backup into it")
                error.refusedNonEmpty = true
                throw error
            }
            let bookmark = try importer.bookmark()
            announce("D1 database \(location) is not empty (\(listed)); importing anyway. Its bookmark now is \(bookmark); to roll it back: "
                     + importer.rollbackCommands(to: bookmark).joined(separator: "  or  "))
        }

        let file = try D1ImportFile()
        defer { file.remove() }
        let converter = D1DialectConverter(name: entry.info.key, output: file.write)
        let restored: RestoreReport
        do {
            restored = try RestoreJob.restoreSQL(entry, from: destination, into: ConvertStage(converter),
                                                 progress: progress, identities: identities)
        } catch {
            throw classify(error)
        }
        guard restored.ok else {
            throw D1RestoreError(.decode, "\(entry.info.key) failed its checks: \(restored.problems.joined(separator: "; "))")
        }
        try file.close()
        report.sqlBytes = restored.sqlBytes
        report.importedBytes = file.size
        report.statements = converter.statements
        report.dropped = converter.dropped
        report.notes = converter.notes + restored.notes

        let outcome = try importer.run(file)
        report.queries = outcome.queries
        report.startBookmark = outcome.startBookmark
        report.finalBookmark = outcome.finalBookmark
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// A failure of the download-and-decode chain, named by its stage: the store's errors are
    /// the download's, the converter's its own, everything else (gzip, zstd, age, the backup's
    /// frame) the decode's.
    static func classify(_ error: any Error) -> any Error {
        var inner = error
        while let stage = inner as? StageError { inner = stage.underlying }
        if inner is D1RestoreError || inner is CancelledError { return inner }
        if inner is ObjectStoreError { return D1RestoreError(.download, "\(error)") }
        return D1RestoreError(.decode, "\(error)")
    }
}

/// Hands decoded SQL to the converter, naming its failures as the convert stage.
private final class ConvertStage: ChunkSink {
    private let converter: D1DialectConverter

    init(_ converter: D1DialectConverter) { self.converter = converter }

    func write(_ chunk: Chunk) throws {
        do { try converter.write(chunk) } catch { throw Self.named(error) }
    }

    func finish() throws {
        do { try converter.finish() } catch { throw Self.named(error) }
    }

    func abort(_ error: Error) { converter.abort(error) }

    private static func named(_ error: any Error) -> any Error {
        error is D1RestoreError ? error : D1RestoreError(.convert, "\(error)")
    }
}
