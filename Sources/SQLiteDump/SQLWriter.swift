import ChunkIO
#if canImport(Glibc)
import Glibc
import Support
#endif

/// Renders SQL straight into pooled chunk buffers: no per-value allocation on the row loop.
/// When a chunk fills it goes downstream and the writer takes the next one from the pool, which
/// blocks while the consumers are behind (back-pressure).
final class SQLWriter {
    private let sink: ChunkSink
    private let pool: ChunkPool
    private var chunk: Chunk
    private var base: UnsafeMutableRawPointer
    private var pos = 0
    private let capacity: Int
    private(set) var flushedBytes: Int64 = 0
    /// Polled at every chunk boundary, so even rows of huge values stop promptly.
    var cancellation: Cancellation?

    init(sink: ChunkSink, pool: ChunkPool) throws {
        self.sink = sink
        self.pool = pool
        chunk = try pool.take()
        base = chunk.base
        capacity = chunk.capacity
    }

    var totalBytes: Int64 { flushedBytes + Int64(pos) }
    /// The largest piece the fast paths may reserve at once.
    var smallLimit: Int { capacity / 4 }

    @inline(__always)
    func reserve(_ n: Int) throws {
        if capacity - pos < n { try flush() }
    }

    func flush() throws {
        guard pos > 0 else { return }
        if cancellation?.isCancelled == true {
            throw DumpError(.cancelled, "interrupted; nothing was written at the destination")
        }
        chunk.count = pos
        chunk.sourceCount = pos
        flushedBytes += Int64(pos)
        let full = chunk
        pos = 0
        chunk = try pool.take()
        base = chunk.base
        try sink.write(full)
    }

    /// Hands the last partial chunk downstream and returns the spare buffer to the pool.
    func finish() throws {
        if pos > 0 {
            chunk.count = pos
            chunk.sourceCount = pos
            flushedBytes += Int64(pos)
            pos = 0
            try sink.write(chunk)
        } else {
            chunk.recycle()
        }
    }

    /// Returns the buffer being filled to the pool without writing it.
    func discard() {
        pos = 0
        chunk.recycle()
    }

    // MARK: raw bytes

    @inline(__always)
    func byte(_ b: UInt8) {
        base.storeBytes(of: b, toByteOffset: pos, as: UInt8.self)
        pos += 1
    }

    /// Copies bytes that may be larger than a chunk.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var src = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            if pos == capacity { try flush() }
            let n = min(left, capacity - pos)
            (base + pos).copyMemory(from: src, byteCount: n)
            pos += n
            src += n
            left -= n
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Copies bytes known to fit (after `reserve`).
    @inline(__always)
    func copyReserved(_ src: UnsafeRawPointer, _ n: Int) {
        (base + pos).copyMemory(from: src, byteCount: n)
        pos += n
    }

    @inline(__always)
    func copyReserved(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { copyReserved($0.baseAddress.unsafelyUnwrapped, $0.count) }
    }

    // MARK: values

    /// Decimal digits of a 64-bit integer, two at a time.
    @inline(__always)
    func integer(_ value: Int64) throws {
        try reserve(20)
        var magnitude = value.magnitude
        if value < 0 { byte(UInt8(ascii: "-")) }
        if magnitude < 10 {
            byte(UInt8(truncatingIfNeeded: magnitude) &+ 48)
            return
        }
        var digits = 0
        var probe = magnitude
        while probe != 0 { digits += 1; probe /= 10 }
        var end = pos + digits
        pos = end
        while magnitude >= 100 {
            let pair = Int(magnitude % 100) &* 2
            magnitude /= 100
            end -= 2
            (base + end).copyMemory(from: Tables.digitPairs + pair, byteCount: 2)
        }
        if magnitude >= 10 {
            end -= 2
            (base + end).copyMemory(from: Tables.digitPairs + Int(magnitude) &* 2, byteCount: 2)
        } else {
            base.storeBytes(of: UInt8(truncatingIfNeeded: magnitude) &+ 48, toByteOffset: end - 1, as: UInt8.self)
        }
    }

    /// A REAL literal that SQLite parses back to the identical double.
    func real(_ value: Double) throws {
        if value.isNaN { try write(Literals.null); return }
        if value.isInfinite { try write(value < 0 ? Literals.negativeInfinity : Literals.infinity); return }
        let magnitude = value.magnitude
        if magnitude != 0 && magnitude < 1e-280 {
            // SQLite's text-to-double is not correctly rounded this close to the subnormal range:
            // scale into the well-behaved range; the product by a power of two is exact.
            try write(Literals.open)
            try shortestReal(value * 0x1p600)
            try write(Literals.timesTwoToMinus600)
            return
        }
        try shortestReal(value)
    }

    private func shortestReal(_ value: Double) throws {
        var text = value.description
        try text.withUTF8 { utf8 in
            try reserve(utf8.count + 2)
            copyReserved(utf8.baseAddress.unsafelyUnwrapped, utf8.count)
            // Swift always writes '.' or an exponent for finite doubles; make sure SQLite sees a REAL.
            if !utf8.contains(UInt8(ascii: ".")) && !utf8.contains(UInt8(ascii: "e")) {
                byte(UInt8(ascii: ".")); byte(UInt8(ascii: "0"))
            }
        }
    }

    /// `X'…'` in upper-case hex, streamed across chunks for large blobs.
    func blob(_ bytes: UnsafeRawBufferPointer) throws {
        try reserve(3)
        byte(UInt8(ascii: "X")); byte(UInt8(ascii: "'"))
        try hex(bytes)
        try reserve(1)
        byte(UInt8(ascii: "'"))
    }

    func hex(_ bytes: UnsafeRawBufferPointer) throws {
        guard let src = bytes.baseAddress else { return }
        var offset = 0
        let n = bytes.count
        while offset < n {
            var room = (capacity - pos) / 2
            if room < 64 {
                try flush()
                room = capacity / 2
            }
            let take = min(room, n - offset)
            let out = (base + pos).assumingMemoryBound(to: UInt16.self)
            let input = (src + offset).assumingMemoryBound(to: UInt8.self)
            for i in 0..<take {
                out[i] = Tables.hexPairs[Int(input[i])]
            }
            pos += take * 2
            chunk.hexBytes += take * 2
            offset += take
        }
    }

    /// A TEXT literal. Valid UTF-8 without control characters (other than tab and newline) is
    /// written as `'…'`; anything else as `CAST(X'…' AS TEXT)`, which keeps every byte.
    func text(_ bytes: UnsafeRawBufferPointer) throws {
        let n = bytes.count
        guard let src = bytes.baseAddress, n > 0 else {
            try reserve(2)
            byte(UInt8(ascii: "'")); byte(UInt8(ascii: "'"))
            return
        }
        let scan = TextScan(src, n)
        if !scan.isPlain {
            try hexText(bytes)
            return
        }
        let size = n + scan.quotes + 2
        if size <= smallLimit {
            try reserve(size)
            byte(UInt8(ascii: "'"))
            if scan.quotes == 0 {
                copyReserved(src, n)
            } else {
                copyDoublingQuotes(src, n)
            }
            byte(UInt8(ascii: "'"))
            return
        }
        try reserve(1)
        byte(UInt8(ascii: "'"))
        var start = 0
        while start < n, let quote = memchr(src + start, 0x27, n - start) {
            let end = UnsafeRawPointer(quote) - src + 1
            try write(UnsafeRawBufferPointer(start: src + start, count: end - start))
            try reserve(1)
            byte(0x27)
            start = end
        }
        try write(UnsafeRawBufferPointer(start: src + start, count: n - start))
        try reserve(1)
        byte(UInt8(ascii: "'"))
    }

    func hexText(_ bytes: UnsafeRawBufferPointer) throws {
        try write(Literals.castOpen)
        try hex(bytes)
        try write(Literals.castTextClose)
    }

    @inline(__always)
    private func copyDoublingQuotes(_ src: UnsafeRawPointer, _ n: Int) {
        var start = 0
        while start < n, let quote = memchr(src + start, 0x27, n - start) {
            let end = UnsafeRawPointer(quote) - src + 1
            copyReserved(src + start, end - start)
            byte(0x27)
            start = end
        }
        copyReserved(src + start, n - start)
    }
}

/// Literal byte sequences the writer emits often.
enum Literals {
    static let null: [UInt8] = Array("NULL".utf8)
    static let infinity: [UInt8] = Array("1e999".utf8)
    static let negativeInfinity: [UInt8] = Array("-1e999".utf8)
    static let open: [UInt8] = Array("(".utf8)
    static let timesTwoToMinus600: [UInt8] = Array("*\(0x1p-600 as Double))".utf8)
    static let castOpen: [UInt8] = Array("CAST(X'".utf8)
    static let castTextClose: [UInt8] = Array("' AS TEXT)".utf8)
    static let rowEnd: [UInt8] = Array(");\n".utf8)
}

/// Lookup tables for the row loop, allocated once and never freed.
enum Tables {
    nonisolated(unsafe) static let digitPairs: UnsafeMutableRawPointer = {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 200, alignment: 8)
        for i in 0..<100 {
            p.storeBytes(of: UInt8(48 + i / 10), toByteOffset: i * 2, as: UInt8.self)
            p.storeBytes(of: UInt8(48 + i % 10), toByteOffset: i * 2 + 1, as: UInt8.self)
        }
        return p
    }()

    nonisolated(unsafe) static let hexPairs: UnsafeMutablePointer<UInt16> = {
        let p = UnsafeMutablePointer<UInt16>.allocate(capacity: 256)
        let digits = Array("0123456789ABCDEF".utf8)
        for i in 0..<256 {
            // Stored so that memory holds the high nibble's digit first on any byte order.
            p[i] = UInt16(littleEndian: UInt16(digits[i >> 4]) | (UInt16(digits[i & 15]) << 8))
        }
        return p
    }()
}
