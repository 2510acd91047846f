#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ChunkIO
import Foundation

/// Output on stderr: errors, and progress lines when stderr is a terminal.
enum Terminal {
    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("backstream: error: \(message)\n".utf8))
    }

    static func status(_ message: String) {
        FileHandle.standardError.write(Data(message.utf8))
    }

    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// Routes SIGINT and SIGTERM to `cancellation` so the job stops, cleans up and exits non-zero;
    /// SIGPIPE becomes an EPIPE error instead of killing the process mid-cleanup.
    static func installSignalHandlers(_ cancellation: Cancellation) -> [DispatchSourceSignal] {
        signal(SIGPIPE, SIG_IGN)
        return [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { cancellation.cancel() }
            source.resume()
            return source
        }
    }
}
