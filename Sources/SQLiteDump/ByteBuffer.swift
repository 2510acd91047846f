/// A growable byte buffer with a read cursor, for the loader's pending input and scratch space.
/// Raw memory, so pointers into it stay valid until the next append or compaction.
struct ByteBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var start = 0
    private(set) var end = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    func free() { base.deallocate() }

    var count: Int { end - start }
    var isEmpty: Bool { end == start }
    var readPointer: UnsafeRawPointer { UnsafeRawPointer(base + start) }

    mutating func consume(_ n: Int) {
        start += n
        if start == end { start = 0; end = 0 }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if let src = bytes.baseAddress { (base + end).copyMemory(from: src, byteCount: bytes.count) }
        end += bytes.count
    }

    /// Makes room for `n` more bytes, moving unread bytes to the front first.
    mutating func reserve(_ n: Int) {
        if capacity - end >= n { return }
        if start > 0 {
            (base).copyMemory(from: base + start, byteCount: end - start)
            end -= start
            start = 0
            if capacity - end >= n { return }
        }
        var newCapacity = capacity * 2
        while newCapacity - end < n { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        grown.copyMemory(from: base, byteCount: end)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    /// Scratch use: drop everything.
    mutating func removeAll() { start = 0; end = 0 }

    /// Scratch use: grows by `n` bytes and returns where to write them (valid until the next growth).
    mutating func appendUninitialized(_ n: Int) -> UnsafeMutablePointer<UInt8>? {
        reserve(n)
        let out = (base + end).assumingMemoryBound(to: UInt8.self)
        end += n
        return out
    }

    /// Scratch use: append one byte.
    mutating func append(byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: end, as: UInt8.self)
        end += 1
    }
}

extension ByteBuffer {
    /// Appends a fixed-width value in machine order (no alignment needed).
    @inline(__always) mutating func put<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        (base + end).storeBytes(of: value, as: T.self)
        end += MemoryLayout<T>.size
    }

    @inline(__always) mutating func put(_ value: Double) { put(value.bitPattern) }

    /// Overwrites a fixed-width value written earlier at `offset` (from the start of the data).
    @inline(__always) mutating func patch<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        (base + start + offset).storeBytes(of: value, as: T.self)
    }

    /// Drops everything after the first `count` bytes: an operation the parser could not finish.
    mutating func truncate(to count: Int) { end = start + count }
}
