/// Failures of the backup jobs that are not I/O errors of a lower layer. The message says what
/// went wrong; what to do next depends on where it is shown (the CLI names its flags and
/// commands, the server its endpoints), so front ends add advice by `code`.
package struct BackupError: Error, CustomStringConvertible, Sendable {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case noBackups, notFound, notABackup, targetExists, verificationFailed, invalidOption,
                 targetIsSymbolicLink, unsafeLockFile, busy, cannotRead, alreadyExists
        }
        fileprivate let base: Base
        fileprivate init(_ base: Base) { self.base = base }
        package var description: String { base.rawValue }

        /// The prefix holds no backup yet.
        package static let noBackups = Code(.noBackups)
        /// No object at the key asked for.
        package static let notFound = Code(.notFound)
        /// The key is not a backup key of the prefix.
        package static let notABackup = Code(.notABackup)
        /// The restore target exists and is not empty.
        package static let targetExists = Code(.targetExists)
        package static let verificationFailed = Code(.verificationFailed)
        package static let invalidOption = Code(.invalidOption)
        /// The restore target is a symbolic link.
        package static let targetIsSymbolicLink = Code(.targetIsSymbolicLink)
        package static let unsafeLockFile = Code(.unsafeLockFile)
        /// Another backup of the same database holds its lock.
        package static let busy = Code(.busy)
        /// An input (a file, a pipe) could not be opened or read.
        package static let cannotRead = Code(.cannotRead)
        /// The backup's key was already written (by another replica); nothing was overwritten.
        package static let alreadyExists = Code(.alreadyExists)
    }

    package let code: Code
    package let message: String
    /// The backup key concerned, when there is one.
    package var key: String?
    /// The file concerned (restore target, lock file, input).
    package var path: String?
    /// What verification found.
    package var problems: [String] = []
    /// Who holds the lock, for `busy`.
    package var holder: String?

    package init(_ code: Code, _ message: String, key: String? = nil, path: String? = nil) {
        self.code = code
        self.message = message
        self.key = key
        self.path = path
    }

    package var description: String { message }

    package static func noBackups(store: String, prefix: String) -> BackupError {
        BackupError(.noBackups, "no backups under \(prefix) in \(store)")
    }

    package static func notFound(store: String, key: String) -> BackupError {
        BackupError(.notFound, "no object \(key) in \(store)", key: key)
    }

    package static func notABackup(key: String) -> BackupError {
        BackupError(.notABackup, "\(key) is not a backup key (expected …database-YYYY-MM-DD-HH-MM-SS.sql.gz or .sql.zst)", key: key)
    }

    package static func targetExists(path: String) -> BackupError {
        BackupError(.targetExists, "\(path) already exists and is not empty (or has -wal/-journal files)", path: path)
    }

    package static func verificationFailed(key: String, problems: [String]) -> BackupError {
        var error = BackupError(.verificationFailed, "backup \(key) failed verification: \(problems.joined(separator: "; "))", key: key)
        error.problems = problems
        return error
    }

    package static func invalidOption(_ message: String) -> BackupError { BackupError(.invalidOption, message) }

    package static func targetIsSymbolicLink(path: String) -> BackupError {
        BackupError(.targetIsSymbolicLink, "\(path) is a symbolic link", path: path)
    }

    package static func unsafeLockFile(path: String, reason: String) -> BackupError {
        BackupError(.unsafeLockFile, "refusing the lock file \(path): \(reason); remove it (a backup recreates it) and try again", path: path)
    }

    package static func busy(database: String, holder: String) -> BackupError {
        var error = BackupError(.busy, "another backup of \(database) is running (\(holder)); wait for it to finish and try again", path: database)
        error.holder = holder
        return error
    }

    package static func alreadyExists(store: String, key: String, cause: any Error) -> BackupError {
        BackupError(.alreadyExists, "the backup \(key) in \(store) was already written, by another replica or run of the same "
                    + "scheduled time; nothing was overwritten and this run stored nothing (\(cause))", key: key)
    }

    package static func cannotRead(_ path: String, reason: String) -> BackupError {
        BackupError(.cannotRead, "cannot read \(path): \(reason)", path: path)
    }
}
