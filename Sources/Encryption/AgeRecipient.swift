import Crypto
import Foundation

/// An X25519 recipient, `age1…`: a public key, safe to record in metadata and logs.
package struct AgeRecipient: Sendable, Equatable, CustomStringConvertible {
    package let publicKey: Curve25519.KeyAgreement.PublicKey

    package init(publicKey: Curve25519.KeyAgreement.PublicKey) {
        self.publicKey = publicKey
    }

    /// Parses `age1…` (lower-case Bech32, 32-byte key).
    package init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed == trimmed.lowercased(), let decoded = Bech32.decode(trimmed), decoded.hrp == "age",
              decoded.data.count == 32, let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: decoded.data) else {
            throw EncryptionError(.invalidKey, "\"\(trimmed.prefix(80))\" is not an age X25519 recipient (age1… from age-keygen, with a valid checksum)")
        }
        publicKey = key
    }

    package var description: String { Bech32.encode(hrp: "age", data: [UInt8](publicKey.rawRepresentation)) }

    package static func == (a: AgeRecipient, b: AgeRecipient) -> Bool {
        a.publicKey.rawRepresentation == b.publicKey.rawRepresentation
    }

    /// Recipients from text with one `age1…` per line (blank lines and `#` comments allowed),
    /// as `age -R` reads a recipients file.
    package static func parseList(_ text: String) throws -> [AgeRecipient] {
        try text.split(whereSeparator: \.isNewline).compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty || trimmed.hasPrefix("#") ? nil : try AgeRecipient(parsing: trimmed)
        }
    }
}
