import Foundation
import SQLiteDump
import Support

/// Values travel as text SQL builds itself, because JSON numbers cannot hold every SQLite
/// value: a type letter, then the integer in decimal, the REAL as `%!.20e` (enough digits to
/// round-trip every double; SQLite prints -0.0 as 0.0, so atan2, of D1's math functions, finds
/// the sign of a zero), or text and BLOB bytes in hex (NUL and invalid UTF-8 included).
enum D1Encoding {
    static func expression(_ column: String) -> String {
        "CASE typeof(\(column)) WHEN 'integer' THEN 'i'||\(column) "
            + "WHEN 'real' THEN 'r'||iif(\(column)=0 AND atan2(\(column),-1.0)<0,'-0',printf('%!.20e',\(column))) "
            + "WHEN 'text' THEN 't'||hex(\(column)) WHEN 'blob' THEN 'b'||hex(\(column)) ELSE 'n' END"
    }

    /// One decoded cell: an integer, a double's bits, or a byte range in its page's arena.
    struct Cell {
        var type: SQLValueType
        var bits: Int64 = 0
        var offset = 0
        var count = 0
    }

    /// Byte length an encoded text or blob value will need (0 for other types).
    static func byteLength(_ encoded: String) -> Int {
        guard let first = encoded.utf8.first, first == UInt8(ascii: "t") || first == UInt8(ascii: "b") else { return 0 }
        return (encoded.utf8.count - 1) / 2
    }

    /// Decodes `encoded` into a cell, writing text/blob bytes at `arena[offset...]`.
    static func decode(_ encoded: String, arena: UnsafeMutableRawBufferPointer, offset: Int) throws -> Cell {
        let utf8 = encoded.utf8
        guard let tag = utf8.first else { throw bad(encoded) }
        let body = utf8.dropFirst()
        switch tag {
        case UInt8(ascii: "n"): return Cell(type: .null)
        case UInt8(ascii: "i"):
            guard let value = Int64(Substring(body)) else { throw bad(encoded) }
            return Cell(type: .integer, bits: value)
        case UInt8(ascii: "r"):
            guard let value = parseDouble(String(Substring(body))) else { throw bad(encoded) }
            return Cell(type: .real, bits: Int64(bitPattern: value.bitPattern))
        case UInt8(ascii: "t"), UInt8(ascii: "b"):
            guard body.count % 2 == 0 else { throw bad(encoded) }
            var index = offset
            var high: UInt8 = 0
            var odd = false
            for char in body {
                guard let nibble = nibble(char) else { throw bad(encoded) }
                if odd {
                    arena[index] = high << 4 | nibble
                    index += 1
                } else {
                    high = nibble
                }
                odd.toggle()
            }
            return Cell(type: tag == UInt8(ascii: "t") ? .text : .blob, offset: offset, count: index - offset)
        default:
            throw bad(encoded)
        }
    }

    /// strtod, which reads SQLite's `Inf`/`-Inf` and every finite `%!.20e` exactly.
    static func parseDouble(_ text: String) -> Double? {
        text.withCString { start in
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(start, &end)
            guard let end, end != UnsafeMutablePointer(mutating: start), end.pointee == 0 else { return nil }
            return value
        }
    }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    private static func bad(_ encoded: String) -> D1Error {
        D1Error(.badAnswer, "D1 returned a value Backstream did not encode: \(encoded.prefix(40))")
    }

    /// A SQL literal for a decoded key value, to continue a keyset page after it.
    static func literal(_ cell: Cell, arena: UnsafeRawBufferPointer) -> String {
        switch cell.type {
        case .null: return "NULL"
        case .integer: return String(cell.bits)
        case .real:
            let value = Double(bitPattern: UInt64(bitPattern: cell.bits))
            if value.isInfinite { return value < 0 ? "-9e999" : "9e999" }
            return String(format: "%.17e", value)
        case .text, .blob:
            let hex = Hex.encode(UnsafeRawBufferPointer(rebasing: arena[cell.offset..<(cell.offset + cell.count)]))
            return cell.type == .text ? "CAST(X'\(hex)' AS TEXT)" : "X'\(hex)'"
        }
    }
}
