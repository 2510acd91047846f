import Fleet
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP reads the fleet file again. A file that does not load leaves the running fleet as
/// it was and says why; a good one is applied between runs (`BackupCoordinator.reload`).
struct ConfigReloader: Service {
    let reload: ServerConfiguration.FleetLoader
    let coordinator: BackupCoordinator
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            await Self.apply(reload, to: coordinator, logger: logger)
        }
    }

    /// Loads and applies; false when the file was refused (the old fleet stays).
    @discardableResult
    static func apply(_ reload: ServerConfiguration.FleetLoader, to coordinator: BackupCoordinator, logger: Logger) async -> Bool {
        let loaded: ServerConfiguration.LoadedFleet
        do {
            loaded = try reload()
        } catch {
            logger.error("reload refused: keeping the running configuration", metadata: ["reason": "\(error)"])
            return false
        }
        for warning in loaded.warnings { logger.warning("configuration", metadata: ["detail": "\(warning)"]) }
        let (added, removed) = await coordinator.reload(loaded.databases, maxConcurrent: loaded.maxConcurrent)
        logger.notice("configuration reloaded", metadata: [
            "databases": "\(loaded.databases.count)", "added": "\(added.joined(separator: ","))",
            "removed": "\(removed.joined(separator: ","))", "max_concurrent": "\(loaded.maxConcurrent)",
        ])
        return true
    }
}
