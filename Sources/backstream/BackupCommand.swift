import ArgumentParser
import Backup
import ChunkIO
import Foundation
import SQLiteDump
import Support

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up a database to the store: dump, compress and upload in one streamed pass, then prune.",
        discussion: """
            The key is <prefix>database-YYYY-MM-DD-HH-MM-SS.sql.gz (UTC; .sql.zst with \
            --compression zstd, .sql with none). Metadata records the time, size, tables and \
            rows, dialect, compression and a checksum of the SQL. When the database has \
            an activity_log table, the backup is logged there.

            With --encrypt-to or --recipients-file the gzip stream is encrypted with age \
            (age-encryption.org/v1) to those recipients and the key ends in .sql.gz.age; \
            `age -d -i key.txt FILE | gunzip` reads it without Backstream. Metadata then records \
            the recipients and no table or row counts.

            Examples:
              backstream backup app.db                               # to ./backups/
              backstream backup app.db --store r2://my-bucket/backups/
              backstream backup app.db --store s3://bucket/ --json --keep-last 7

            Before it starts, a backup to S3 or R2 aborts the multipart uploads under its prefix \
            that were started more than --stale-upload-hours ago (default 24, or \
            $BACKSTREAM_STALE_UPLOAD_HOURS): the parts a killed run left behind, which the \
            bucket would otherwise keep and bill. `backstream list` shows any that remain.

            A failure in any stage (reading the database, compressing, uploading) ends the \
            backup with a message naming the stage and leaves no object; Ctrl-C (SIGINT) or \
            SIGTERM abort the upload and exit 130 or 143. A failure to prune old backups after \
            a stored backup is a warning (and "prune_error" in --json), never a failed backup.
            """)

    @Argument(help: "The SQLite database file to back up (read in one consistent snapshot), or d1://ACCOUNT_ID/DATABASE (token in CLOUDFLARE_API_TOKEN).")
    var database: String

    @OptionGroup var d1: D1Options

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var retention: RetentionOptions
    @OptionGroup var recipientOptions: RecipientOptions

    @Option(help: "Script dialect: sqlite or d1.")
    var dialect: Dialect = .sqlite

    @OptionGroup var compressionOptions: CompressionOptions

    @Flag(help: "Do not delete old backups after this one.")
    var noPrune = false

    @Flag(help: "Do not write to the database's activity_log table.")
    var noActivityLog = false

    @Flag(help: "Print one JSON line instead of a summary.")
    var json = false

    @Option(help: ArgumentHelp("Abort unfinished multipart uploads under the prefix older than this many hours before backing up (a killed run's leftovers); a negative value keeps them.",
                               valueName: "hours"))
    var staleUploadHours: Double?

    func validate() throws {
        try compressionOptions.validate(for: compressionOptions.compression ?? .gzip)
        _ = try staleUploadAge()
    }

    /// --stale-upload-hours, else $BACKSTREAM_STALE_UPLOAD_HOURS, else 24 hours; nil when negative.
    func staleUploadAge() throws -> TimeInterval? {
        var hours = staleUploadHours
        if hours == nil, let text = ProcessInfo.processInfo.environment["BACKSTREAM_STALE_UPLOAD_HOURS"], !text.isEmpty {
            guard let value = Double(text), value.isFinite else {
                throw ValidationError("BACKSTREAM_STALE_UPLOAD_HOURS must be a number of hours, not \"\(text)\"")
            }
            hours = value
        }
        guard let hours else { return BackupJob.defaultStaleUploadAge }
        guard hours.isFinite else { throw ValidationError("--stale-upload-hours must be a number of hours") }
        return hours < 0 ? nil : hours * 3600
    }

    func run() throws {
        let cancellation = Cancellation()
        let signals = Terminal.installSignalHandlers(cancellation)
        defer { signals.forEach { $0.cancel() } }
        var options = BackupJob.Options()
        options.dialect = dialect
        options.compression = compressionOptions.compression ?? .gzip
        options.level = compressionOptions.level
        options.threads = compressionOptions.threads
        options.retention = retention.policy
        options.prune = !noPrune
        options.activityLog = !noActivityLog
        options.cancellation = cancellation
        options.staleUploadAge = try staleUploadAge()
        options.recipients = try reportingErrors { try recipientOptions.recipients() }
        options.warn = { Terminal.status("backstream: warning: \($0)\n") }
        if Terminal.stderrIsTerminal { options.progress = Terminal.dumpProgress }
        let result = try reportingErrors(cancellation: cancellation) {
            options.openSource = try d1.opener(for: database)
            // A D1 database has no activity_log this process can write.
            if options.openSource != nil { options.activityLog = false }
            return try BackupJob.run(databasePath: database, destination: try storeOptions.destination(), options: options)
        }
        if Terminal.stderrIsTerminal { Terminal.status("\r\u{1B}[K") }
        if result.abortedStaleUploads > 0 {
            Terminal.status("backstream: aborted \(result.abortedStaleUploads) unfinished upload(s) left by earlier runs\n")
        }
        if json {
            printLine(result.json.rendered)
        } else {
            let rate = result.seconds > 0 ? Double(result.sqlBytes) / result.seconds : 0
            printLine("""
                backed up \(database) to \(result.key)
                  size \(Terminal.bytes(Int64(result.size))) (SQL \(Terminal.bytes(result.sqlBytes))), \(result.tables) tables, \(result.rows) rows
                  \(String(format: "%.2f", result.seconds)) s, \(Terminal.bytes(Int64(rate)))/s of SQL\(result.deletedCount.map { ", pruned \($0) old backups" } ?? "")
                """)
        }
        if cancellation.isCancelled {
            // The signal came after the object was complete: the backup stands, pruning was skipped.
            Terminal.error("interrupted after the backup was stored at \(result.key); old backups were not pruned")
            throw ExitCode(Terminal.exitStatus(cancellation))
        }
    }
}
