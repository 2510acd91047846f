import CSQLite
import Foundation

/// Finding where statements end in the pending input, and counting lines on the way.
extension ScriptLoader {
    /// Consumes `n` pending bytes, counting the lines they span.
    func consume(_ n: Int) {
        var p = pending.readPointer
        let end = p + n
        while p < end, let newline = memchr(p, 0x0A, end - p) {
            line += 1
            p = UnsafeRawPointer(newline) + 1
        }
        pending.consume(n)
    }

    func waitForMore() {
        retryAt = pending.count + max(pending.count, 64 * 1024)
    }

    /// Length of the first complete statement (through its ';'), or nil when more input is needed.
    func statementLength(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        StatementScanner.length(p, n, scratch: &scratch)
    }
}
