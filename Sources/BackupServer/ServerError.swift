import Foundation
import Backup

/// Failures the server reports with a status code and a one-line message.
package enum ServerError: Error, CustomStringConvertible, Sendable {
    /// A backup is already running (started at `started`, or by another process).
    case busy(started: Date?, holder: String?)
    case shuttingDown
    case badRequest(String)
    case notFound(String)
    case configuration(String)
    case jwks(String)

    package var description: String {
        switch self {
        case .busy(let started, let holder):
            if let started { return "a backup is already running since \(BackupMetadata.iso8601(started))" }
            return "a backup is already running (\(holder ?? "another process"))"
        case .shuttingDown: return "the server is shutting down"
        case .badRequest(let message), .notFound(let message): return message
        case .configuration(let message): return "configuration: \(message)"
        case .jwks(let message): return "JWKS: \(message)"
        }
    }
}
