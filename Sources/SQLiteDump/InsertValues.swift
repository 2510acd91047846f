import Foundation

/// One value of an INSERT line, parsed from the writer's exact literal forms and appended to a
/// batch as a `LoadValueTag` and its payload; anything else is `.unsupported` and left to SQLite.
enum InsertValues {
    enum Parse { case done, incomplete, unsupported }

    static func parse(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, into out: inout ByteBuffer) -> Parse {
        let b = p[i]
        switch b {
        case UInt8(ascii: "'"):
            return text(p, n, &i, into: &out)
        case UInt8(ascii: "X"):
            guard n - i >= 2 else { return .incomplete }
            guard p[i + 1] == UInt8(ascii: "'") else { return .unsupported }
            i += 2
            return hex(p, n, &i, tag: .blob, into: &out)
        case UInt8(ascii: "N"):
            guard n - i >= 4 else { return .incomplete }
            guard p[i + 1] == UInt8(ascii: "U"), p[i + 2] == UInt8(ascii: "L"), p[i + 3] == UInt8(ascii: "L") else { return .unsupported }
            i += 4
            out.put(LoadValueTag.null.rawValue)
            return .done
        case UInt8(ascii: "C"):
            guard n - i >= 7 else { return .incomplete }
            guard memcmp(p + i, castOpen, 7) == 0 else { return .unsupported }
            i += 7
            let parsed = hex(p, n, &i, tag: .text, into: &out)
            guard parsed == .done else { return parsed }
            guard n - i >= 9 else { return .incomplete }
            guard memcmp(p + i, asTextClose, 9) == 0 else { return .unsupported }
            i += 9
            return .done
        case UInt8(ascii: "("):
            // (m*2^-600): the dumper's exact form for doubles SQLite's parser would misround.
            i += 1
            guard case .real(let m) = number(p, n, &i) else { return i >= n ? .incomplete : .unsupported }
            guard i < n else { return .incomplete }
            guard p[i] == UInt8(ascii: "*") else { return .unsupported }
            i += 1
            guard case .real(let scale) = number(p, n, &i) else { return i >= n ? .incomplete : .unsupported }
            guard i < n else { return .incomplete }
            guard p[i] == UInt8(ascii: ")") else { return .unsupported }
            i += 1
            out.put(LoadValueTag.real.rawValue)
            out.put(m * scale)
            return .done
        default:
            guard b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39) else { return .unsupported }
            switch number(p, n, &i) {
            case .integer(let v):
                out.put(LoadValueTag.integer.rawValue)
                out.put(v)
                return .done
            case .real(let v):
                out.put(LoadValueTag.real.rawValue)
                out.put(v)
                return .done
            case .incomplete: return .incomplete
            case .unsupported: return .unsupported
            }
        }
    }

    private enum Number { case integer(Int64), real(Double), incomplete, unsupported }

    private static func number(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> Number {
        let start = i
        var isReal = false
        while i < n {
            let c = p[i]
            if c >= 0x30 && c <= 0x39 || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                i += 1
            } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                isReal = true
                i += 1
            } else {
                break
            }
        }
        guard i < n else { return .incomplete }
        let length = i - start
        guard length > 0, length < 64 else { return .unsupported }
        if !isReal {
            var negative = false
            var j = start
            if p[j] == UInt8(ascii: "-") { negative = true; j += 1 }
            guard j < i else { return .unsupported }
            var magnitude: UInt64 = 0
            while j < i {
                let d = p[j] &- 0x30
                guard d < 10 else { return .unsupported }
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(d))
                // Out of 64-bit range: SQLite would read a REAL; leave it to SQLite.
                guard !o1 && !o2 else { return .unsupported }
                magnitude = m2
                j += 1
            }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return .unsupported }
                return .integer(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude))
            }
            guard magnitude <= UInt64(Int64.max) else { return .unsupported }
            return .integer(Int64(magnitude))
        }
        // strtod is correctly rounded, and the dumper writes shortest round-trip digits.
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &buffer) { raw -> Number in
            raw.baseAddress?.copyMemory(from: p + start, byteCount: length)
            raw[length] = 0
            let cString = raw.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: CChar.self)
            var endPointer: UnsafeMutablePointer<CChar>?
            let value = strtod(cString, &endPointer)
            guard let endPointer, endPointer - cString == length else { return .unsupported }
            return .real(value)
        }
    }

    /// A quoted string, copied with doubled quotes undone.
    private static func text(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, into out: inout ByteBuffer) -> Parse {
        out.put(LoadValueTag.text.rawValue)
        let lengthAt = out.count
        out.put(UInt32(0))
        var j = i + 1
        var segment = j
        while true {
            guard j < n, let q = memchr(p + j, 0x27, n - j) else { return .incomplete }
            let quote = UnsafeRawPointer(q) - UnsafeRawPointer(p)
            guard quote + 1 < n else { return .incomplete }
            if p[quote + 1] == 0x27 {
                out.append(UnsafeRawBufferPointer(start: p + segment, count: quote + 1 - segment))
                j = quote + 2
                segment = j
                continue
            }
            out.append(UnsafeRawBufferPointer(start: p + segment, count: quote - segment))
            guard let length = UInt32(exactly: out.count - lengthAt - 4) else { return .unsupported }
            out.patch(length, at: lengthAt)
            i = quote + 1
            return .done
        }
    }

    /// Hex digits up to a closing quote, decoded through a lookup table.
    private static func hex(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, tag: LoadValueTag, into out: inout ByteBuffer) -> Parse {
        guard let q = memchr(p + i, 0x27, n - i) else { return .incomplete }
        let end = UnsafeRawPointer(q) - UnsafeRawPointer(p)
        let digits = end - i
        guard digits % 2 == 0, let length = UInt32(exactly: digits / 2) else { return .unsupported }
        let count = digits / 2
        out.put(tag.rawValue)
        out.put(length)
        guard let decoded = out.appendUninitialized(count) else { return .unsupported }
        let table = hexTable
        var bad: UInt8 = 0
        var j = i
        for k in 0..<count {
            let hi = table[Int(p[j])], lo = table[Int(p[j + 1])]
            bad |= hi | lo
            decoded[k] = hi << 4 | (lo & 0x0F)
            j += 2
        }
        // Invalid digits map to 0xF0: one test after the loop instead of one per byte.
        guard bad & 0xF0 == 0 else { return .unsupported }
        i = end + 1
        return .done
    }

    /// Hex digit → value; anything else → 0xF0.
    nonisolated(unsafe) static let hexTable: UnsafeMutablePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        table.initialize(repeating: 0xF0, count: 256)
        for (offset, c) in "0123456789".utf8.enumerated() { table[Int(c)] = UInt8(offset) }
        for (offset, c) in "ABCDEF".utf8.enumerated() { table[Int(c)] = UInt8(10 + offset) }
        for (offset, c) in "abcdef".utf8.enumerated() { table[Int(c)] = UInt8(10 + offset) }
        return table
    }()

    static let castOpen: [UInt8] = Array("CAST(X'".utf8)
    static let asTextClose: [UInt8] = Array(" AS TEXT)".utf8)
}
