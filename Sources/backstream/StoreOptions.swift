import ArgumentParser
import Backup
import ChunkIO
import Foundation
import Support

/// `--store`, shared by every command that talks to backups.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Where backups live: s3://bucket/prefix/, r2://bucket/prefix/, a folder, or file:///path.",
        discussion: "Default: $BACKSTREAM_STORE, else the current folder (keys under backups/). S3 reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL; R2 reads R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY."))
    var store: String?

    func destination() throws -> BackupDestination {
        try BackupDestination.resolve(store)
    }
}

/// Retention flags shared by backup and prune.
struct RetentionOptions: ParsableArguments {
    @Option(help: "Delete backups older than this many days (by the time in their key).")
    var retentionDays = 30

    @Option(help: "Never delete the newest N backups, whatever their age.")
    var keepLast = 3

    func validate() throws {
        guard retentionDays >= 0 else { throw ValidationError("--retention-days must not be negative") }
        guard keepLast >= 0 else { throw ValidationError("--keep-last must not be negative") }
    }

    var policy: RetentionPolicy { RetentionPolicy(retentionDays: retentionDays, keepLast: keepLast) }
}

/// Runs `body`, printing a failure as one line on stderr and exiting non-zero.
func reportingErrors<T>(cancellation: Cancellation? = nil, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        Terminal.error(Terminal.describe(error))
        throw ExitCode(Terminal.exitStatus(cancellation))
    }
}

func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
