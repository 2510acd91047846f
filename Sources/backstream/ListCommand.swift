import ArgumentParser
import Backup
import Foundation

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List backups, newest first.",
        discussion: "--json prints the guide's shape: {\"backups\":[{\"key\",\"uploaded\",\"size\",\"size_kb\",\"size_mb\",\"metadata\"}],\"total\":N}.")

    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Print JSON in the shape of GET /api/admin/backup.")
    var json = false

    func run() throws {
        let entries = try reportingErrors {
            let destination = try storeOptions.destination()
            return try BackupListing.entries(in: destination.store, prefix: destination.prefix)
        }
        if json {
            printLine(BackupListing.json(entries).rendered)
            return
        }
        if entries.isEmpty {
            printLine("no backups")
            return
        }
        for entry in entries {
            let m = entry.info.metadata
            printLine("\(entry.info.key)  \(Terminal.bytes(Int64(entry.info.size)))  \(m[BackupMetadata.tablesCount] ?? "?") tables  \(m[BackupMetadata.rowsCount] ?? "?") rows  \(m[BackupMetadata.timestamp] ?? BackupMetadata.iso8601(entry.key.timestamp))")
        }
    }
}
