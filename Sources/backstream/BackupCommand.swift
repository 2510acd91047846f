import ArgumentParser
import Backup
import ChunkIO
import Foundation
import SQLiteDump

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up a database to the store: dump, gzip and upload in one streamed pass, then prune.",
        discussion: """
            The key is <prefix>database-YYYY-MM-DD-HH-MM-SS.sql.gz (UTC). Metadata records the \
            time, size, tables and rows, dialect and a checksum of the SQL. When the database has \
            an activity_log table, the backup is logged there.

            Examples:
              backstream backup app.db                               # to ./backups/
              backstream backup app.db --store r2://my-bucket/backups/
              backstream backup app.db --store s3://bucket/ --json --keep-last 7
            """)

    @Argument(help: "The SQLite database file to back up (read in one consistent snapshot).")
    var database: String

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var retention: RetentionOptions

    @Option(help: "Script dialect: sqlite or d1.")
    var dialect: Dialect = .sqlite

    @Option(help: "gzip level, 1 (fastest) to 12 (smallest); chunks that are mostly hex-encoded BLOBs always use level 1.")
    var level = 6

    @Option(help: "Compression threads (default: one per core).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Do not delete old backups after this one.")
    var noPrune = false

    @Flag(help: "Do not write to the database's activity_log table.")
    var noActivityLog = false

    @Flag(help: "Print one JSON line instead of a summary.")
    var json = false

    func validate() throws {
        guard (1...12).contains(level) else { throw ValidationError("--level must be between 1 and 12") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() throws {
        let cancellation = Cancellation()
        let signals = Terminal.installSignalHandlers(cancellation)
        defer { signals.forEach { $0.cancel() } }
        var options = BackupJob.Options()
        options.dialect = dialect
        options.level = level
        options.threads = threads
        options.retention = retention.policy
        options.prune = !noPrune
        options.activityLog = !noActivityLog
        options.cancellation = cancellation
        options.warn = { Terminal.status("backstream: warning: \($0)\n") }
        if Terminal.stderrIsTerminal { options.progress = Terminal.dumpProgress }
        let result = try reportingErrors(cancellation: cancellation) {
            try BackupJob.run(databasePath: database, destination: try storeOptions.destination(), options: options)
        }
        if Terminal.stderrIsTerminal { Terminal.status("\r\u{1B}[K") }
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
    }
}
