import Logging
import Synchronization

/// The server's logger: swift-log's stderr handler, `key=value` metadata, never a secret.
package enum ServerLogging {
    private static let bootstrapped = Atomic<Bool>(false)

    /// Installs the stderr handler (once per process) and returns the server's logger.
    package static func logger(level: Logger.Level = .info) -> Logger {
        if !bootstrapped.exchange(true, ordering: .acquiringAndReleasing) {
            LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        }
        var logger = Logger(label: "backstream.serve")
        logger.logLevel = level
        return logger
    }

    package static func level(named name: String) -> Logger.Level? { Logger.Level(rawValue: name.lowercased()) }
}
