import Foundation

/// The base64 of age headers: standard alphabet, no `=` padding, and only canonical encodings
/// accepted (unused trailing bits must be zero), as the spec requires of decoders.
enum AgeBase64 {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        guard !text.contains("="), text.count % 4 != 1 else { return nil }
        let padded = String(text) + String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let data = Data(base64Encoded: padded) else { return nil }
        let bytes = [UInt8](data)
        // Foundation ignores non-zero trailing bits; re-encoding finds them.
        guard encode(bytes) == text else { return nil }
        return bytes
    }
}
