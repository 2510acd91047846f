/// One pass over a TEXT value: how many single quotes it has, and whether it can be written as a
/// plain `'…'` literal (valid UTF-8, no NUL or control characters other than tab and newline).
/// Eight bytes at a time while they are plain printable ASCII, the common case.
struct TextScan {
    private(set) var quotes = 0
    private(set) var isPlain = true

    @inline(__always)
    init(_ src: UnsafeRawPointer, _ n: Int) {
        let p = src.assumingMemoryBound(to: UInt8.self)
        var i = 0
        while i < n {
            if n - i >= 8 {
                let word = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let high: UInt64 = 0x8080_8080_8080_8080
                let quoteBits = word ^ 0x2727_2727_2727_2727
                let special = (word & high)
                    | ((word &- 0x2020_2020_2020_2020) & ~word & high)
                    | ((quoteBits &- 0x0101_0101_0101_0101) & ~quoteBits & high)
                if special == 0 {
                    i += 8
                    continue
                }
            }
            let b = p[i]
            if b >= 0x20 && b < 0x80 {
                if b == 0x27 { quotes += 1 }
                i += 1
            } else if b < 0x20 {
                guard b == 0x0A || b == 0x09 else { isPlain = false; return }
                i += 1
            } else {
                let length = Self.utf8SequenceLength(p, i, n)
                guard length > 0 else { isPlain = false; return }
                i += length
            }
        }
    }

    /// Length of the well-formed UTF-8 sequence at `i` (RFC 3629: no overlongs, no surrogates,
    /// nothing above U+10FFFF), or 0 when it is malformed.
    @inline(__always)
    static func utf8SequenceLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        let b0 = p[i]
        @inline(__always) func cont(_ k: Int) -> Bool { i + k < n && p[i + k] & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            return cont(1) ? 2 : 0
        case 0xE0:
            return cont(1) && p[i + 1] >= 0xA0 && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return cont(1) && cont(2) ? 3 : 0
        case 0xED:
            return cont(1) && p[i + 1] < 0xA0 && cont(2) ? 3 : 0
        case 0xF0:
            return cont(1) && p[i + 1] >= 0x90 && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3:
            return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4:
            return cont(1) && p[i + 1] < 0x90 && cont(2) && cont(3) ? 4 : 0
        default:
            return 0
        }
    }
}
