/// Why a dump (or a load) failed. Each message says what went wrong and what to do next.
public struct DumpError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case fileNotFound, cannotOpen, notADatabase, corrupt, busy, sqlite, valueTooLarge, cancelled, invalidScript
        /// The input is not a Backstream script (no header), or is empty.
        case notBackstream
        /// The script tried something a backup never does (ATTACH, VACUUM, a foreign pragma…).
        case refusedStatement
    }
    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
