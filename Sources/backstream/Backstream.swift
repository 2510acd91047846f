import ArgumentParser

@main
struct Backstream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backstream",
        abstract: "Back up SQLite (and Cloudflare D1) databases to S3-compatible storage, and restore them.",
        subcommands: [])
}
