import Backup
import ChunkIO
import D1Source
import Encryption

/// What the CLI adds to a library error: the next step, in terms of this CLI's commands and
/// flags. Libraries say what went wrong; only the front end knows how the user can react.
extension Terminal {
    /// `error`'s message and, when the CLI knows one, the next step ("…; pass --force to replace it").
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        guard let advice = advice(for: innermost(error)) else { return text }
        return text + "; " + advice
    }

    static func advice(for error: any Error) -> String? {
        if let error = error as? EncryptionError { return advice(for: error) }
        if let error = error as? D1RestoreError, error.refusedNonEmpty {
            return "pass --force to import into it anyway (the bookmark to roll it back to is printed first)"
        }
        guard let error = error as? BackupError else { return nil }
        switch error.code {
        case .noBackups: return "run `backstream backup` first or check --store"
        case .notFound: return "run `backstream list` to see the backups"
        case .targetExists: return "pass --force to replace it"
        case .targetIsSymbolicLink:
            return "restore to the file it points to, or pass --force to replace the link itself with the restored database (its target is never written)"
        case .cannotRead: return "check the path and its permissions"
        default: return nil
        }
    }

    /// The error a stage wrapper carries.
    private static func innermost(_ error: any Error) -> any Error {
        var current = error
        while let stage = current as? StageError { current = stage.underlying }
        return current
    }
}
