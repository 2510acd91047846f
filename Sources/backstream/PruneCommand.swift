import ArgumentParser
import Backup
import Foundation

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete backups older than the retention period, always keeping the newest few.",
        discussion: "Only keys of the backup pattern (…database-YYYY-MM-DD-HH-MM-SS.sql[.gz]) directly under the prefix are ever deleted.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var retention: RetentionOptions

    @Flag(help: "Show what would be deleted without deleting.")
    var dryRun = false

    @Flag(help: "Print {\"success\":true,\"deleted_count\":N}.")
    var json = false

    @Option(help: "Database whose activity_log records the prune.")
    var database: String?

    func run() throws {
        let result = try reportingErrors {
            try PruneJob.run(destination: try storeOptions.destination(), policy: retention.policy, dryRun: dryRun,
                             databasePath: database, warn: { Terminal.status("backstream: warning: \($0)\n") })
        }
        if json {
            printLine(result.json.rendered)
            return
        }
        for key in result.deleted { printLine("\(dryRun ? "would delete" : "deleted") \(key)") }
        printLine("\(dryRun ? "would delete" : "deleted") \(result.deleted.count) backups, kept \(result.kept)")
    }
}
