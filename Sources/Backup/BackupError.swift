/// Failures of the backup jobs that are not I/O errors of a lower layer. The message says what
/// went wrong; what to do next depends on where it is shown (the CLI names its flags and
/// commands, the server its endpoints), so front ends add advice by `code`.
public struct BackupError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case noBackups, notFound, notABackup, targetExists, verificationFailed, invalidOption,
                 targetIsSymbolicLink, unsafeLockFile, busy, cannotRead
        }
        fileprivate let base: Base
        fileprivate init(_ base: Base) { self.base = base }
        public var description: String { base.rawValue }

        /// The prefix holds no backup yet.
        public static let noBackups = Code(.noBackups)
        /// No object at the key asked for.
        public static let notFound = Code(.notFound)
        /// The key is not a backup key of the prefix.
        public static let notABackup = Code(.notABackup)
        /// The restore target exists and is not empty.
        public static let targetExists = Code(.targetExists)
        public static let verificationFailed = Code(.verificationFailed)
        public static let invalidOption = Code(.invalidOption)
        /// The restore target is a symbolic link.
        public static let targetIsSymbolicLink = Code(.targetIsSymbolicLink)
        public static let unsafeLockFile = Code(.unsafeLockFile)
        /// Another backup of the same database holds its lock.
        public static let busy = Code(.busy)
        /// An input (a file, a pipe) could not be opened or read.
        public static let cannotRead = Code(.cannotRead)
    }

    public let code: Code
    public let message: String
    /// The backup key concerned, when there is one.
    public var key: String?
    /// The file concerned (restore target, lock file, input).
    public var path: String?
    /// What verification found.
    public var problems: [String] = []
    /// Who holds the lock, for `busy`.
    public var holder: String?

    public init(_ code: Code, _ message: String, key: String? = nil, path: String? = nil) {
        self.code = code
        self.message = message
        self.key = key
        self.path = path
    }

    public var description: String { message }

    public static func noBackups(store: String, prefix: String) -> BackupError {
        BackupError(.noBackups, "no backups under \(prefix) in \(store)")
    }

    public static func notFound(store: String, key: String) -> BackupError {
        BackupError(.notFound, "no object \(key) in \(store)", key: key)
    }

    public static func notABackup(key: String) -> BackupError {
        BackupError(.notABackup, "\(key) is not a backup key (expected …database-YYYY-MM-DD-HH-MM-SS.sql.gz)", key: key)
    }

    public static func targetExists(path: String) -> BackupError {
        BackupError(.targetExists, "\(path) already exists and is not empty (or has -wal/-journal files)", path: path)
    }

    public static func verificationFailed(key: String, problems: [String]) -> BackupError {
        var error = BackupError(.verificationFailed, "backup \(key) failed verification: \(problems.joined(separator: "; "))", key: key)
        error.problems = problems
        return error
    }

    public static func invalidOption(_ message: String) -> BackupError { BackupError(.invalidOption, message) }

    public static func targetIsSymbolicLink(path: String) -> BackupError {
        BackupError(.targetIsSymbolicLink, "\(path) is a symbolic link", path: path)
    }

    public static func unsafeLockFile(path: String, reason: String) -> BackupError {
        BackupError(.unsafeLockFile, "refusing the lock file \(path): \(reason); remove it (a backup recreates it) and try again", path: path)
    }

    public static func busy(database: String, holder: String) -> BackupError {
        var error = BackupError(.busy, "another backup of \(database) is running (\(holder)); wait for it to finish and try again", path: database)
        error.holder = holder
        return error
    }

    public static func cannotRead(_ path: String, reason: String) -> BackupError {
        BackupError(.cannotRead, "cannot read \(path): \(reason)", path: path)
    }
}
