/// Why a restore into D1 failed, named by the stage it failed in, so a user knows whether the
/// backup, this machine or D1 is at fault. Never carries the token.
package struct D1RestoreError: Error, CustomStringConvertible, Sendable {
    package enum Stage: String, Sendable, Equatable {
        /// Reading the target before anything is written: its emptiness, its bookmark.
        case check
        /// Fetching the backup object from the store.
        case download
        /// gunzip / unzstd / age, and the backup's own frame and checksum.
        case decode
        /// Rewriting the script for D1 into the temporary file.
        case convert
        /// init and the PUT of the file to D1's upload URL.
        case upload
        /// Asking D1 to run the uploaded file.
        case ingest
        /// Waiting for the import to finish (a failed import is rolled back by D1).
        case poll
    }

    package let stage: Stage
    package let message: String
    /// The target holds tables and the restore was not forced (front ends name their flag).
    package var refusedNonEmpty = false

    package init(_ stage: Stage, _ message: String) {
        self.stage = stage
        self.message = message
    }

    package var description: String { "restore into D1 failed at the \(stage.rawValue) stage: \(message)" }
}
