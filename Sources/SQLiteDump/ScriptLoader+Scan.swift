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

    func skipWhitespace() {
        let p = pending.readPointer.assumingMemoryBound(to: UInt8.self)
        var i = 0
        let n = pending.count
        while i < n, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x09 || p[i] == 0x0D {
            if p[i] == 0x0A { line += 1 }
            i += 1
        }
        if i > 0 { pending.consume(i) }
    }

    /// Length of the first complete statement (through its ';'), or nil when more input is needed.
    /// Quoted text is skipped here; only a ';' outside quotes asks `sqlite3_complete`, which
    /// knows that a trigger body's inner semicolons do not end the statement.
    func statementLength(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        var i = 0
        while i < n {
            let b = p[i]
            if b == 0x27 || b == 0x22 || b == 0x60 || b == 0x5B {
                let close = b == 0x5B ? UInt8(0x5D) : b
                guard let q = memchr(p + i + 1, Int32(close), n - i - 1) else { return nil }
                i = UnsafeRawPointer(q) - UnsafeRawPointer(p) + 1
                continue
            }
            if b == UInt8(ascii: "-"), i + 1 < n, p[i + 1] == UInt8(ascii: "-") {
                guard let newline = memchr(p + i, 0x0A, n - i) else { return nil }
                i = UnsafeRawPointer(newline) - UnsafeRawPointer(p) + 1
                continue
            }
            if b == UInt8(ascii: "/"), i + 1 < n, p[i + 1] == UInt8(ascii: "*") {
                var j = i + 2
                while j + 1 < n, !(p[j] == UInt8(ascii: "*") && p[j + 1] == UInt8(ascii: "/")) { j += 1 }
                guard j + 1 < n else { return nil }
                i = j + 2
                continue
            }
            i += 1
            if b == UInt8(ascii: ";") {
                scratch.removeAll()
                scratch.append(UnsafeRawBufferPointer(start: p, count: i))
                scratch.append(byte: 0)
                if sqlite3_complete(scratch.readPointer.assumingMemoryBound(to: CChar.self)) != 0 { return i }
            }
        }
        return nil
    }
}
