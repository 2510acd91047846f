/// Failures of the backup commands that are not I/O errors of a lower layer.
public enum BackupError: Error, CustomStringConvertible, Sendable {
    case noBackups(store: String, prefix: String)
    case notFound(store: String, key: String)
    case notABackup(key: String)
    case targetExists(path: String)
    case verificationFailed(key: String, problems: [String])
    case invalidOption(String)
    case targetIsSymbolicLink(path: String)
    case unsafeLockFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .noBackups(let store, let prefix):
            return "no backups under \(prefix) in \(store); run `backstream backup` first or check --store"
        case .notFound(let store, let key):
            return "no object \(key) in \(store); run `backstream list` to see the backups"
        case .notABackup(let key):
            return "\(key) is not a backup key (expected …database-YYYY-MM-DD-HH-MM-SS.sql.gz)"
        case .targetExists(let path):
            return "\(path) already exists and is not empty (or has -wal/-journal files); pass --force to replace it"
        case .verificationFailed(let key, let problems):
            return "backup \(key) failed verification: \(problems.joined(separator: "; "))"
        case .invalidOption(let message):
            return message
        case .targetIsSymbolicLink(let path):
            return "\(path) is a symbolic link; restore to the file it points to, or pass --force to replace the link itself with the restored database (its target is never written)"
        case .unsafeLockFile(let path, let reason):
            return "refusing the lock file \(path): \(reason); remove it (a backup recreates it) and try again"
        }
    }
}
