/// The first words of a statement, lower-cased, with quoted identifiers unquoted and
/// comments skipped: enough to tell a statement's kind and target table.
struct SQLWords {
    private(set) var words: [String] = []

    init(_ sql: UnsafeRawBufferPointer, limit: Int) {
        var i = 0
        let n = sql.count
        while i < n && words.count < limit {
            let b = sql[i]
            if b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D || b == UInt8(ascii: ".") || b == UInt8(ascii: "=") {
                i += 1
            } else if b == UInt8(ascii: "-"), i + 1 < n, sql[i + 1] == UInt8(ascii: "-") {
                while i < n, sql[i] != 0x0A { i += 1 }
            } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "`") || b == UInt8(ascii: "[") {
                let close = b == UInt8(ascii: "[") ? UInt8(ascii: "]") : b
                var j = i + 1
                var name: [UInt8] = []
                while j < n {
                    if sql[j] == close {
                        if close != UInt8(ascii: "]"), j + 1 < n, sql[j + 1] == close { name.append(close); j += 2; continue }
                        break
                    }
                    name.append(sql[j])
                    j += 1
                }
                words.append(String(decoding: name, as: UTF8.self).lowercased())
                i = j + 1
            } else if Self.isWordByte(b) {
                var j = i
                while j < n, Self.isWordByte(sql[j]) { j += 1 }
                words.append(String(decoding: sql[i..<j], as: UTF8.self).lowercased())
                i = j
            } else {
                break
            }
        }
    }

    var first: String? { words.first }

    func at(_ index: Int) -> String? { index < words.count ? words[index] : nil }

    /// The word after the first `keyword`; a schema-qualified `main.t` names `t`.
    func after(_ keyword: String) -> String? {
        guard let index = words.firstIndex(of: keyword), let next = at(index + 1) else { return nil }
        return next == "main" || next == "temp" ? at(index + 2) ?? next : next
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b >= 0x80
    }
}
