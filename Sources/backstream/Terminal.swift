#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ChunkIO
import Foundation
import SQLiteDump
import Synchronization
import Support

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

    /// A progress line, rewritten in place about twice a second.
    @Sendable static func dumpProgress(_ p: DumpProgress) {
        let rate = p.elapsed > 0 ? Double(p.bytes) / p.elapsed : 0
        status(String(format: "\r\u{1B}[K%@ table %d/%d, %lld/%lld rows, %@ SQL, %@/s",
                      p.table, p.tablesDone + 1, p.tablesTotal, p.rowsDone, p.rowsTotal,
                      bytes(p.bytes), bytes(Int64(rate))))
    }

    /// Progress of a transfer when stderr is a terminal, rewritten in place:
    /// "downloaded 12.0 MiB of 100.0 MiB (12%), 40.0 MiB/s".
    static func transferProgress(_ verb: String, total: Int? = nil) -> ProgressSink.Report? {
        guard stderrIsTerminal else { return nil }
        return { done, elapsed in
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            var line = "\r\u{1B}[K\(verb) \(bytes(done))"
            if let total, total > 0 { line += " of \(bytes(Int64(total))) (\(min(100, done * 100 / Int64(total)))%)" }
            status(line + ", \(bytes(Int64(rate)))/s")
        }
    }

    /// Erases a progress line, so what follows starts on a clean line.
    static func clearProgress() {
        if stderrIsTerminal { status("\r\u{1B}[K") }
    }

    /// Routes SIGINT and SIGTERM to `cancellation` so the job stops, cleans up and exits
    /// 128 + the signal (130, 143); SIGPIPE becomes an EPIPE error instead of killing the
    /// process mid-cleanup.
    ///
    /// The clean stop is bounded: a stage blocked past `grace` seconds (a peer that stopped
    /// answering) or a second signal ends the process at once with the same status, so the CLI
    /// never outlives a signal by more than a few seconds. What such an exit leaves (a multipart
    /// upload) is aborted by the next backup.
    static func installSignalHandlers(_ cancellation: Cancellation, grace: Double = 4) -> [DispatchSourceSignal] {
        signal(SIGPIPE, SIG_IGN)
        let received = SignalCount()
        return [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                cancellation.cancel(signal: number)
                let status = 128 + (cancellation.signal ?? number)
                if received.count.add(1, ordering: .relaxed).newValue > 1 {
                    error("interrupted again; exiting without cleaning up")
                    _exit(status)
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + grace) {
                    error("the interrupted work did not stop within \(Int(grace)) s; exiting (the next backup aborts any unfinished upload)")
                    _exit(status)
                }
            }
            source.resume()
            return source
        }
    }

    /// The exit status of a failed command: 128 + the signal that cancelled it, else 1.
    static func exitStatus(_ cancellation: Cancellation?) -> Int32 {
        guard let cancellation, cancellation.isCancelled else { return 1 }
        return 128 + (cancellation.signal ?? SIGINT)
    }
}

/// How many termination signals arrived, shared by the handlers.
private final class SignalCount: Sendable {
    let count = Atomic<Int>(0)
}
