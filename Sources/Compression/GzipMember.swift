import ChunkIO
import CLibdeflate

/// The gzip member layout Backstream writes: RFC 1952 with one extra subfield, `BS`, holding
/// the whole member's length (as BGZF's `BC` does, in 32 bits since members exceed 64 KiB).
/// Every gzip reader skips it; `GzipDecoder` uses it to decode a member in one libdeflate call
/// (about twice zlib's streaming speed) once all of its bytes have arrived, instead of guessing
/// where it ends.
enum GzipMember {
    /// Fixed header (10) + XLEN (2) + subfield id, length and value (2 + 2 + 4).
    static let headerSize = 20
    /// CRC-32 and ISIZE.
    static let trailerSize = 8

    /// Writes the header for a member of `total` bytes at `p`.
    static func writeHeader(_ p: UnsafeMutableRawPointer, total: Int) {
        let bytes: [UInt8] = [
            0x1f, 0x8b, 8, 0x04,  // magic, deflate, FLG.FEXTRA
            0, 0, 0, 0, 0, 0xff,  // no MTIME, no XFL, OS unknown (as libdeflate writes)
            8, 0,                 // XLEN
            UInt8(ascii: "B"), UInt8(ascii: "S"), 4, 0,
        ] + le32(UInt32(truncatingIfNeeded: total))
        store(bytes, at: p)
    }

    static func writeTrailer(_ p: UnsafeMutableRawPointer, crc: UInt32, size: Int) {
        store(le32(crc) + le32(UInt32(truncatingIfNeeded: size)), at: p)
    }

    private static func store(_ bytes: [UInt8], at p: UnsafeMutableRawPointer) {
        for (i, byte) in bytes.enumerated() { p.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
    }

    /// The member length a Backstream header at `p` (at least `headerSize` bytes) declares, or
    /// nil for any other gzip header (another tool's member goes through zlib instead).
    static func declaredSize(_ p: UnsafeRawPointer) -> Int? {
        let b = p.assumingMemoryBound(to: UInt8.self)
        guard b[0] == 0x1f, b[1] == 0x8b, b[2] == 8, b[3] == 0x04, b[10] == 8, b[11] == 0,
              b[12] == UInt8(ascii: "B"), b[13] == UInt8(ascii: "S"), b[14] == 4, b[15] == 0 else { return nil }
        let size = Int(b[16]) | Int(b[17]) << 8 | Int(b[18]) << 16 | Int(b[19]) << 24
        return size >= headerSize + trailerSize ? size : nil
    }

    private static func le32(_ v: UInt32) -> [UInt8] {
        [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)]
    }
}
