import ArgumentParser
import Backup
import ChunkIO
import Compression
import Foundation
import SQLiteDump
import Support

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write a database as a SQL script that rebuilds it exactly.",
        discussion: """
            The script is one consistent snapshot, taken in a single read transaction while other \
            processes may keep writing. It restores with `sqlite3 new.db < dump.sql`, or with \
            `wrangler d1 execute --file` when written with --dialect d1.

            Examples:
              backstream dump app.db | sqlite3 copy.db
              backstream dump app.db -o app.sql.gz
              backstream dump app.db --gzip --level 9 > app.sql.gz
              backstream dump app.db --compression zstd | zstd -d | sqlite3 copy.db
              backstream dump app.db --dialect d1 -o d1.sql
            """)

    @Argument(help: "The SQLite database file to dump (opened read-only), or d1://ACCOUNT_ID/DATABASE (token in CLOUDFLARE_API_TOKEN).")
    var database: String

    @OptionGroup var d1: D1Options

    @Option(name: [.short, .long], help: "Write to this file (atomically) instead of standard output; a .gz name implies --gzip, a .zst name --compression zstd.")
    var output: String?

    @Flag(help: "Compress with parallel gzip (readable by gunzip): --compression gzip.")
    var gzip = false

    @OptionGroup var compressionOptions: CompressionOptions

    @Option(help: "Script dialect: sqlite (the sqlite3 CLI) or d1 (wrangler d1 execute).")
    var dialect: Dialect = .sqlite

    @Option(help: "Milliseconds to wait for a database locked by a writer before failing.")
    var busyTimeout: Int32 = 5000

    @Flag(help: "Do not fsync the --output file before moving it into place (faster, not crash-safe).")
    var noSync = false

    @Flag(help: ArgumentHelp(
        "Skip the source's integrity_check and foreign_key_check (a third of a zstd dump's CPU), as sqlite3 .dump does.",
        discussion: "The script then records no source state: a restore still checks the new database, but cannot tell a foreign-key violation the source had from one the copy gained."))
    var noSourceChecks = false

    func validate() throws {
        if gzip, let other = compressionOptions.compression, other != .gzip {
            throw ValidationError("--gzip and --compression \(other.rawValue) disagree; pass one of them")
        }
        try compressionOptions.validate(for: compression)
        guard busyTimeout >= 0 else { throw ValidationError("--busy-timeout must not be negative") }
    }

    /// --compression, else --gzip, else the output's name (.gz, .zst), else plain SQL.
    var compression: CompressionMethod {
        if let chosen = compressionOptions.compression { return chosen }
        if gzip || (output?.hasSuffix(".gz") ?? false) { return .gzip }
        if output?.hasSuffix(".zst") ?? false { return .zstd }
        return .none
    }

    func run() throws {
        let cancellation = Cancellation()
        let signals = Terminal.installSignalHandlers(cancellation)
        defer { signals.forEach { $0.cancel() } }

        var options = DumpJob.Options()
        options.dump.dialect = dialect
        options.dump.busyTimeoutMilliseconds = busyTimeout
        options.dump.sourceChecks = !noSourceChecks
        options.dump.cancellation = cancellation
        options.compression = compression
        options.level = compressionOptions.level
        options.threads = compressionOptions.threads
        options.outputPath = output
        options.synchronous = !noSync
        let showProgress = Terminal.stderrIsTerminal
        if showProgress { options.dump.progress = Terminal.dumpProgress }
        do {
            options.openSource = try d1.opener(for: database)
            let result = try DumpJob.run(databasePath: database, options: options)
            if showProgress {
                let s = result.summary
                Terminal.status(String(format: "\r\u{1B}[Kdumped %d tables, %lld rows, %@ SQL in %.2fs\n",
                                       s.tables, s.rows, Terminal.bytes(s.bytes), s.seconds))
            }
        } catch {
            if showProgress { Terminal.status("\r\u{1B}[K") }
            Terminal.error(Terminal.describe(error))
            throw ExitCode(Terminal.exitStatus(cancellation))
        }
    }
}

extension Dialect: ExpressibleByArgument {}
