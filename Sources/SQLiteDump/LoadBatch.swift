/// Parsed statements on their way from the loader's parsing thread to its SQLite thread.
///
/// The parser writes operations into a batch and the executor reads them back in order, so
/// SQLite's inserts run on one core while decompression and parsing run on the other. Values
/// are stored decoded (hex already turned into bytes, doubled quotes undone) and bound straight
/// from the batch. Batches come from a fixed pool, which bounds the memory between the threads.
final class LoadBatch: @unchecked Sendable {
    var buffer: ByteBuffer
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        buffer = ByteBuffer(capacity: capacity)
    }

    deinit { buffer.free() }

    /// True once the batch holds enough to be worth handing over.
    var isFull: Bool { buffer.count >= capacity }

    /// Empties the batch for reuse, dropping the memory a very large row made it grow to.
    func reset() {
        if buffer.capacity > 4 * capacity {
            buffer.free()
            buffer = ByteBuffer(capacity: capacity)
        }
        buffer.removeAll()
    }
}

/// The operations a batch holds, each a tag byte and its fields.
enum LoadOp: UInt8 {
    /// `INSERT INTO … VALUES(` text that later inserts name by id: id u32, length u32, bytes.
    case define = 1
    /// One row of the fast path: id u32, value count u32, line i64, then the values.
    case insert = 2
    /// One statement for SQLite's parser: line i64, length u32, bytes.
    case execute = 3
}

/// A value's tag in an insert: null, integer (8 bytes), real (8), text and blob (length u32, bytes).
enum LoadValueTag: UInt8 {
    case null = 0, integer, real, text, blob
}

/// Reads a batch's operations back in the order they were written.
struct LoadReader {
    var p: UnsafeRawPointer
    let end: UnsafeRawPointer

    init(_ buffer: ByteBuffer) {
        p = buffer.readPointer
        end = p + buffer.count
    }

    var atEnd: Bool { p >= end }

    @inline(__always) mutating func byte() -> UInt8 {
        let v = p.load(as: UInt8.self)
        p += 1
        return v
    }

    @inline(__always) mutating func read<T: FixedWidthInteger>(_: T.Type) -> T {
        let v = p.loadUnaligned(as: T.self)
        p += MemoryLayout<T>.size
        return v
    }

    /// `count` bytes in place, valid while the batch is.
    @inline(__always) mutating func bytes(_ count: Int) -> UnsafeRawBufferPointer {
        let v = UnsafeRawBufferPointer(start: p, count: count)
        p += count
        return v
    }
}
