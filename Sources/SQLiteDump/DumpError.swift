/// Why a dump (or a load) failed. Each message says what went wrong and what to do next.
package struct DumpError: Error, CustomStringConvertible, Sendable {
    package enum Code: Sendable, Equatable {
        case fileNotFound, cannotOpen, notADatabase, corrupt, busy, sqlite, valueTooLarge, cancelled, invalidScript
        /// The input is not a Backstream script (no header), or is empty.
        case notBackstream
        /// The script tried something a backup never does (ATTACH, VACUUM, a foreign pragma…).
        case refusedStatement
        /// A remote source changed while it was read, so the rows are not one state; reading
        /// again may succeed.
        case sourceChanged
    }
    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
