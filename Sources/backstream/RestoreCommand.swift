import ArgumentParser
import Backup
import ChunkIO
import D1Source
import Foundation
import Support

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a database file, or print its SQL.",
        discussion: """
            The backup streams from the store through gunzip into a new file beside the target, \
            which replaces the target only after integrity, foreign-key, row-count and checksum \
            checks pass. A damaged backup leaves the target untouched. The object is untrusted \
            input: its SQL runs under a sandbox that allows only what Backstream writes (no \
            ATTACH, VACUUM, extensions or foreign pragmas), against the new file only. \
            Foreign-key violations the source database held at backup time are reproduced, \
            not refused.

            Examples:
              backstream restore latest --into app.db
              backstream restore backups/database-2024-01-15-02-00-00.sql.gz --into copy.db --force
              backstream restore latest --stdout > d1.sql   # for wrangler d1 execute --file
              backstream restore manual/plain.sql.gz --into copy.db --allow-foreign   # a sqlite3 .dump
              backstream restore latest --into d1://ACCOUNT_ID/DATABASE   # through D1's import API

            Into d1://ACCOUNT_ID/DATABASE (token in CLOUDFLARE_API_TOKEN), the backup is decoded \
            and rewritten for D1 (no transaction or header pragmas) into a temporary file, then \
            imported: D1 runs it as one unit and rolls a failed import back. A D1 database that \
            holds tables is refused unless --force; a forced restore first prints the bookmark \
            and the command that rolls D1 back to it.
            """)

    @Argument(help: "A backup key, its file name, or `latest`.")
    var key = "latest"

    @Option(help: "Database file to restore into, or d1://ACCOUNT_ID/DATABASE.")
    var into: String?

    @Flag(help: "Replace an existing database at --into (for d1://, import into a database that is not empty).")
    var force = false

    @Flag(help: "Write the SQL to standard output instead.")
    var stdout = false

    @Flag(help: "Accept a script that is not a Backstream backup (for example `sqlite3 .dump` output); it runs under the same sandbox, without row-count or source checks.")
    var allowForeign = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var identityOptions: IdentityOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard (into != nil) != stdout else { throw ValidationError("give exactly one of --into DB or --stdout") }
        if let into, D1Location.matches(into), allowForeign {
            throw ValidationError("--allow-foreign does not apply to a d1:// target: only Backstream backups are converted for D1")
        }
    }

    func run() throws {
        if let into, D1Location.matches(into) { return try restoreIntoD1(into) }
        let cancellation = Cancellation()
        let signals = Terminal.installSignalHandlers(cancellation)
        defer { signals.forEach { $0.cancel() } }
        let report = try reportingErrors(cancellation: cancellation) {
            defer { Terminal.clearProgress() }
            let identities = try identityOptions.identities()
            let destination = try storeOptions.destination()
            let entry = try destination.resolveKey(key)
            let progress = Terminal.transferProgress("restoring: downloaded", total: entry.info.size)
            if let into {
                return try RestoreJob.restore(entry, from: destination, into: into, force: force, allowForeign: allowForeign,
                                              cancellation: cancellation, progress: progress, identities: identities)
            }
            let report = try RestoreJob.restoreSQL(entry, from: destination, into: FileSink.standardOutput(),
                                                  allowForeign: allowForeign, progress: progress, identities: identities)
            guard report.ok else { throw BackupError.verificationFailed(key: entry.info.key, problems: report.problems) }
            return report
        }
        guard let into else { return }
        if json {
            printLine(report.json.rendered)
        } else {
            printLine("restored \(report.key) into \(into): \(report.rows) rows, \(report.tables.count) tables, integrity ok, in \(String(format: "%.2f", report.seconds)) s")
            for note in report.notes { printLine("  note: \(note)") }
        }
    }
}

extension RestoreCommand {
    private func restoreIntoD1(_ target: String) throws {
        let report = try reportingErrors {
            defer { Terminal.clearProgress() }
            let location = try D1Location(target)
            let identities = try identityOptions.identities()
            let destination = try storeOptions.destination()
            let entry = try destination.resolveKey(key)
            let progress = Terminal.transferProgress("restoring: downloaded", total: entry.info.size)
            return try D1RestoreJob.restore(entry, from: destination, into: location, force: force, progress: progress,
                                            identities: identities, announce: { Terminal.status("backstream: \($0)\n") })
        }
        if json {
            printLine(report.json.rendered)
        } else {
            printLine("restored \(report.key) into \(report.target): \(report.statements) statements imported by D1 in \(report.queries) queries, "
                      + "bookmark \(report.finalBookmark), in \(String(format: "%.2f", report.seconds)) s")
            for note in report.notes { printLine("  note: \(note)") }
        }
    }
}
