/// Why reading a D1 database failed. Every message names D1 and the cause, never the token.
package struct D1Error: Error, CustomStringConvertible, Sendable {
    package enum Code: Sendable, Equatable {
        /// `d1://…` is malformed or the account, token or database is not given.
        case invalidLocation
        /// The API refused the token (HTTP 401/403).
        case authentication
        /// No database with that id or name in the account.
        case notFound
        /// The API answered an error that retrying does not fix (a bad query, a limit).
        case apiError
        /// Still failing after the retries (429, 5xx, dropped connections).
        case unavailable
        /// The answer was not the JSON the API documents.
        case badAnswer
        /// A value or page too large for the API's limits.
        case tooLarge
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
