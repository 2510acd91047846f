import CSQLite
import Foundation

/// Where statements end in streamed SQL text: shared by the loader and the D1 dialect converter.
enum StatementScanner {
    /// A `--` comment line at the start of the pending input.
    enum CommentLine {
        case notComment
        /// Its newline has not arrived yet.
        case incomplete
        /// `length` bytes of comment text; `consumed` includes the newline when there is one.
        case line(length: Int, consumed: Int)
    }

    /// The comment line at `p`, if one starts there; at the end of the input (`final`) a
    /// comment without a newline is complete.
    static func commentLine(_ p: UnsafePointer<UInt8>, _ n: Int, final: Bool) -> CommentLine {
        guard n >= 2 && p[0] == UInt8(ascii: "-") && p[1] == UInt8(ascii: "-") else { return .notComment }
        guard let newline = memchr(p, 0x0A, n) else { return final ? .line(length: n, consumed: n) : .incomplete }
        let length = UnsafeRawPointer(newline) - UnsafeRawPointer(p)
        return .line(length: length, consumed: length + 1)
    }

    /// Length of the first complete statement (through its ';'), or nil when more input is needed.
    /// Quoted text is skipped here; only a ';' outside quotes asks `sqlite3_complete`, which
    /// knows that a trigger body's inner semicolons do not end the statement.
    static func length(_ p: UnsafePointer<UInt8>, _ n: Int, scratch: inout ByteBuffer) -> Int? {
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

extension ByteBuffer {
    /// Drops leading whitespace; returns the number of newlines dropped.
    mutating func skipWhitespace() -> Int {
        let p = readPointer.assumingMemoryBound(to: UInt8.self)
        var i = 0, newlines = 0
        while i < count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x09 || p[i] == 0x0D {
            if p[i] == 0x0A { newlines += 1 }
            i += 1
        }
        if i > 0 { consume(i) }
        return newlines
    }
}
