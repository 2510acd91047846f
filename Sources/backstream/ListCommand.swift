import ArgumentParser
import Backup
import Foundation
import ObjectStore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List backups, newest first.",
        discussion: """
            --json prints the guide's shape: {"backups":[{"key","uploaded","size","size_kb","size_mb","metadata"}],"total":N}. \
            Unfinished multipart uploads under the prefix (a killed backup's parts) are named on \
            stderr, in both modes; the next backup aborts those older than --stale-upload-hours.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Print JSON in the shape of GET /api/admin/backup.")
    var json = false

    func run() throws {
        let (entries, pending) = try reportingErrors {
            let destination = try storeOptions.destination()
            return (try BackupListing.entries(in: destination.store, prefix: destination.prefix),
                    BackupListing.pendingUploads(in: destination.store, prefix: destination.prefix))
        }
        // On stderr: --json keeps exactly the guide's shape on stdout.
        for upload in pending {
            let started = upload.initiated.map { ", started \(BackupMetadata.iso8601($0))" } ?? ""
            Terminal.status("backstream: unfinished multipart upload \(upload.key) (upload id \(upload.uploadId)\(started)); the next backup aborts it once it is older than --stale-upload-hours\n")
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
