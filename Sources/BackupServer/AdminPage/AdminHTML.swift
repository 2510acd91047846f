import Foundation

/// The admin page's markup: templates in `Resources/` (embedded in the binary, so a copied
/// `backstream` needs no resource bundle beside it), filled with escaped values.
enum AdminHTML {
    static let shell = template(PackageResources.admin_html)
    static let signInForm = template(PackageResources.signin_html)
    static let listBody = template(PackageResources.list_html)
    static let signInScript = template(PackageResources.signin_js)
    static let listScript = template(PackageResources.list_js)

    private static func template(_ bytes: [UInt8]) -> String {
        var text = String(decoding: bytes, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// `template` with each `{{name}}` replaced by `values[name]`, in one pass: a value is
    /// never scanned for placeholders itself.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            out += rest[..<open.lowerBound]
            out += values[String(rest[open.upperBound..<close.lowerBound])] ?? ""
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    static func page(title: String, body: String, script: String = "") -> String {
        fill(shell, ["title": escape(title), "body": body, "script": script])
    }

    static func signIn(note: String) -> String {
        page(title: "Backups", body: fill(signInForm, ["note": escape(note)]), script: signInScript)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1_048_576 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        return String(format: "%.2f MiB", Double(bytes) / 1_048_576)
    }

    static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min" }
        if s < 86_400 { return "\(s / 3600) h \(s % 3600 / 60) min" }
        return "\(s / 86_400) d \(s % 86_400 / 3600) h"
    }
}
