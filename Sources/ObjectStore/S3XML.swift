/// Just enough XML for S3's flat answers: the text of `<Tag>…</Tag>` elements, in order.
/// S3 bodies have no mixed content or CDATA, so a scan beats a full parser here.
struct S3XML {
    let text: Substring

    init(_ bytes: [UInt8]) { text = Substring(String(decoding: bytes, as: UTF8.self)) }
    init(_ text: Substring) { self.text = text }

    /// The inner text of every `<tag>` element, entities decoded.
    func values(_ tag: String) -> [String] { elements(tag).map { Self.unescape($0) } }

    func first(_ tag: String) -> String? { elements(tag).first.map { Self.unescape($0) } }

    /// The raw inner content of every `<tag>` element, for nested scans.
    func elements(_ tag: String) -> [Substring] {
        var found: [Substring] = []
        var rest = text[...]
        let open = "<\(tag)>", close = "</\(tag)>"
        while let start = rest.range(of: open) {
            guard let end = rest[start.upperBound...].range(of: close) else { break }
            found.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return found
    }

    /// True when the document's root element is `<Error>`, whatever the HTTP status said.
    var isErrorDocument: Bool {
        var body = text.drop { $0.isWhitespace }
        if body.hasPrefix("<?xml"), let end = body.range(of: "?>") {
            body = body[end.upperBound...].drop { $0.isWhitespace }
        }
        return body.hasPrefix("<Error>")
    }

    static func unescape(_ raw: Substring) -> String {
        guard raw.contains("&") else { return String(raw) }
        var out = ""
        var rest = raw
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                if let number, let scalar = Unicode.Scalar(number) { out.unicodeScalars.append(scalar) }
                else { out += rest[amp...semi] }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // Control characters are not allowed raw in XML 1.0.
                if ch.value < 0x20 && ch != "\t" && ch != "\n" { out += "&#\(ch.value);" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}
