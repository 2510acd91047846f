/// What a stored object or a file really holds, told by its first bytes and never by its name:
/// a `.sql.gz` renamed from a zstd dump, or a plain script behind a `.gz` key, still restores.
package enum PayloadFormat: String, Sendable, Equatable {
    case gzip, zstd, plain

    /// Magic numbers: gzip (RFC 1952) 1f 8b, a zstd frame (RFC 8878) 28 b5 2f fd.
    private static let magics: [(format: PayloadFormat, bytes: [UInt8])] = [
        (.gzip, [0x1F, 0x8B]),
        (.zstd, [0x28, 0xB5, 0x2F, 0xFD]),
    ]

    /// The most bytes `detect` ever needs.
    package static let sniffLength = magics.map(\.bytes.count).max() ?? 0

    /// The format `prefix` starts; nil while `prefix` is a shorter start of some magic and more
    /// bytes may follow (`atEnd` false). Anything without a known magic is plain text.
    package static func detect(_ prefix: UnsafeRawBufferPointer, atEnd: Bool) -> PayloadFormat? {
        for magic in magics {
            let n = min(prefix.count, magic.bytes.count)
            guard prefix.prefix(n).elementsEqual(magic.bytes.prefix(n)) else { continue }
            if n == magic.bytes.count { return magic.format }
            if !atEnd { return nil }
        }
        return .plain
    }
}
