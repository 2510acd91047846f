import CSQLite

/// A failure of SQLite itself, with the result code it returned and the file it concerns.
/// The message says what went wrong; front ends add what to do next by `code`.
package struct SQLiteError: Error, CustomStringConvertible, Sendable {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case cannotOpen, notADatabase, corrupt, busy, interrupted, other
        }
        fileprivate let base: Base
        fileprivate init(_ base: Base) { self.base = base }
        package var description: String { base.rawValue }

        package static let cannotOpen = Code(.cannotOpen)
        package static let notADatabase = Code(.notADatabase)
        package static let corrupt = Code(.corrupt)
        /// Locked by another connection past the busy timeout.
        package static let busy = Code(.busy)
        /// `sqlite3_interrupt` (a cancelled job) stopped the statement.
        package static let interrupted = Code(.interrupted)
        package static let other = Code(.other)
    }

    package let code: Code
    /// SQLite's (extended) result code, `SQLITE_OK` when the failure was found before a call.
    package let resultCode: Int32
    package let path: String
    package let message: String

    package init(_ code: Code, resultCode: Int32, path: String, message: String) {
        self.code = code
        self.resultCode = resultCode
        self.path = path
        self.message = message
    }

    package var description: String { message }

    /// Maps a result code of a call on `path` to a sentence a user can act on.
    static func from(_ rc: Int32, detail: String, path: String, context: String) -> SQLiteError {
        switch rc & 0xff {
        case SQLITE_NOTADB:
            return SQLiteError(.notADatabase, resultCode: rc, path: path,
                               message: "\(path) is not a SQLite database (\(detail)); check that the path names the database file itself")
        case SQLITE_CORRUPT:
            return SQLiteError(.corrupt, resultCode: rc, path: path,
                               message: "database \(path) is corrupt (\(detail)); run `sqlite3 \(path) 'PRAGMA integrity_check'` and restore from a good backup")
        case SQLITE_BUSY, SQLITE_LOCKED:
            return SQLiteError(.busy, resultCode: rc, path: path,
                               message: "database \(path) stayed locked by another connection (\(detail)); retry when its writer has finished, or raise the busy timeout")
        case SQLITE_INTERRUPT:
            return SQLiteError(.interrupted, resultCode: rc, path: path, message: "interrupted while reading \(path)")
        default:
            let snippet = context.count > 120 ? String(context.prefix(120)) + "…" : context
            return SQLiteError(.other, resultCode: rc, path: path,
                               message: "SQLite error on \(path): \(detail) (while running: \(snippet))")
        }
    }
}
