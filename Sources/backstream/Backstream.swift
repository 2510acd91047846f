import ArgumentParser

@main
struct Backstream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backstream",
        abstract: "Back up SQLite (and Cloudflare D1) databases to S3-compatible storage, and restore them.",
        discussion: """
            Backstream streams one consistent snapshot of a database as SQL through parallel gzip \
            to a file, standard output or object storage, with memory bounded whatever the size.
            """,
        version: "0.1.0",
        subcommands: [DumpCommand.self, BackupCommand.self, ListCommand.self, PruneCommand.self, RestoreCommand.self,
                      VerifyCommand.self, UploadCommand.self, ServeCommand.self])
}
