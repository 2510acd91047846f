import ArgumentParser
import Backup
import ChunkIO
import Foundation
import Support

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Restore a backup into a scratch database and check it; non-zero exit on any problem.",
        discussion: """
            Checks: Backstream's header and completion trailer, integrity_check, per-table row \
            counts against the dump header, the content checksum recorded at backup time, and \
            foreign_key_check against the source's own result recorded at backup time (a \
            database that held violations verifies when exactly those come back). The SQL runs \
            under the loader's sandbox into a private scratch file that is always deleted.
            """)

    @Argument(help: "A backup key, its file name, or `latest`.")
    var key = "latest"

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var identityOptions: IdentityOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let cancellation = Cancellation()
        let signals = Terminal.installSignalHandlers(cancellation)
        defer { signals.forEach { $0.cancel() } }
        let report = try reportingErrors(cancellation: cancellation) {
            defer { Terminal.clearProgress() }
            let identities = try identityOptions.identities()
            let destination = try storeOptions.destination()
            let entry = try destination.resolveKey(key)
            return try VerifyJob.run(entry, from: destination, cancellation: cancellation,
                                     progress: Terminal.transferProgress("verifying: downloaded", total: entry.info.size),
                                     identities: identities)
        }
        if json {
            printLine(report.json.rendered)
        } else {
            printLine("verify \(report.key): \(report.ok ? "OK" : "FAILED")")
            printLine("  integrity_check: \(report.integrity); foreign key violations: \(report.foreignKeyViolations)")
            printLine("  checksum: \(report.actualCRC32) (recorded: \(report.expectedCRC32.map(String.init) ?? "none")); complete: \(report.complete)")
            for table in report.tables {
                printLine("  \(table.name): \(table.actual) rows (header: \(table.expected))\(table.actual == table.expected ? "" : "  MISMATCH")")
            }
            for note in report.notes { printLine("  note: \(note)") }
            for problem in report.problems { printLine("  problem: \(problem)") }
        }
        if !report.ok { throw ExitCode(1) }
    }
}
