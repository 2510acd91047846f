import Crypto
import Foundation

/// The textual header of an age v1 file: the version line, one stanza per recipient (the file
/// key wrapped for it), and `--- ` with an HMAC of everything before it under a key derived
/// from the file key, so a header cannot be changed without the file key.
package struct AgeHeader: Sendable {
    /// `-> TYPE ARGS…` and a base64 body.
    package struct Stanza: Sendable {
        package var type: String
        package var arguments: [String]
        package var body: [UInt8]
    }

    package static let versionLine = Array("age-encryption.org/v1\n".utf8)
    /// The longest header read: far more than any list of recipients needs, and a bound on
    /// the memory an object that only claims to be age can make a reader spend.
    static let maxLength = 1 << 20
    private static let x25519Label = "age-encryption.org/v1/X25519"

    package var stanzas: [Stanza]
    package var mac: [UInt8]
    /// The bytes the MAC covers: the header up to and including `---`.
    var macInput: [UInt8]

    // MARK: writing

    /// The full header (with its MAC line) that wraps `fileKey` for each recipient.
    static func encode(fileKey: SymmetricKey, recipients: [AgeRecipient]) throws -> [UInt8] {
        var text = versionLine
        for recipient in recipients {
            let stanza = try wrap(fileKey: fileKey, for: recipient)
            text += Array("-> \(stanza.type) \(stanza.arguments.joined(separator: " "))\n".utf8)
            let body = Array(AgeBase64.encode(stanza.body).utf8)
            // Lines of 64 columns; the last one is shorter (empty when the body fills the last).
            var offset = 0
            while true {
                let line = body[offset..<min(offset + 64, body.count)]
                text += line + [UInt8(ascii: "\n")]
                offset += line.count
                if line.count < 64 { break }
            }
        }
        text += Array("---".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: text, using: macKey(fileKey))
        text += Array(" \(AgeBase64.encode(mac))\n".utf8)
        return text
    }

    private static func wrap(fileKey: SymmetricKey, for recipient: AgeRecipient) throws -> Stanza {
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let share = [UInt8](ephemeral.publicKey.rawRepresentation)
        let wrapKey = try wrappingKey(ephemeral.sharedSecretFromKeyAgreement(with: recipient.publicKey),
                                      share: share, recipient: recipient)
        let sealed = try ChaChaPoly.seal(fileKey.withUnsafeBytes { [UInt8]($0) }, using: wrapKey, nonce: zeroNonce)
        return Stanza(type: "X25519", arguments: [AgeBase64.encode(share)], body: [UInt8](sealed.ciphertext + sealed.tag))
    }

    // MARK: reading

    /// Parses a header from the start of `bytes`; nil while the `---` line has not arrived.
    /// Returns the header and its length in bytes.
    static func parse(_ bytes: [UInt8], name: String) throws -> (header: AgeHeader, length: Int)? {
        func malformed(_ why: String) -> EncryptionError {
            EncryptionError(.malformedHeader, "\(name) has a damaged age header (\(why))")
        }
        if bytes.count < versionLine.count && versionLine.starts(with: bytes) { return nil }
        guard bytes.starts(with: versionLine) else { throw malformed("no age-encryption.org/v1 line") }
        var position = versionLine.count
        var stanzas: [Stanza] = []
        // Reads the next line without its newline; nil when it has not fully arrived.
        func nextLine() -> ArraySlice<UInt8>? {
            guard let end = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            defer { position = end + 1 }
            return bytes[position..<end]
        }
        while true {
            let lineStart = position
            guard let line = nextLine() else {
                if bytes.count > maxLength { throw malformed("longer than \(maxLength) bytes") }
                return nil
            }
            if line.starts(with: Array("--- ".utf8)) {
                guard let mac = AgeBase64.decode(Substring(decoding: line.dropFirst(4), as: UTF8.self)), mac.count == 32 else {
                    throw malformed("the MAC line is not 32 bytes of base64")
                }
                return (AgeHeader(stanzas: stanzas, mac: mac, macInput: Array(bytes[..<(lineStart + 3)])), position)
            }
            guard line.starts(with: Array("-> ".utf8)) else { throw malformed("a line is neither a stanza nor the MAC") }
            let words = String(decoding: line.dropFirst(3), as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
            guard let type = words.first, words.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 33 && $0 <= 126 } }) else {
                throw malformed("a stanza line has empty or invalid arguments")
            }
            var body = ""
            while true {
                guard let bodyLine = nextLine() else {
                    if bytes.count > maxLength { throw malformed("longer than \(maxLength) bytes") }
                    return nil
                }
                guard bodyLine.count <= 64 else { throw malformed("a stanza body line is longer than 64 columns") }
                body += String(decoding: bodyLine, as: UTF8.self)
                if bodyLine.count < 64 { break }
            }
            guard let decoded = AgeBase64.decode(Substring(body)) else { throw malformed("a stanza body is not canonical base64") }
            stanzas.append(Stanza(type: String(type), arguments: words.dropFirst().map(String.init), body: decoded))
        }
    }

    /// The file key from the first X25519 stanza that one of `identities` opens, after the
    /// header MAC is checked with it; stanzas of other types are skipped.
    func unwrapFileKey(with identities: [AgeIdentity], name: String) throws -> SymmetricKey {
        for stanza in stanzas where stanza.type == "X25519" {
            guard stanza.arguments.count == 1, let share = AgeBase64.decode(Substring(stanza.arguments[0])), share.count == 32,
                  stanza.body.count == 32, let sharePoint = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: share) else {
                throw EncryptionError(.malformedHeader, "\(name) has a damaged age header (an X25519 stanza of the wrong size)")
            }
            for identity in identities {
                guard let secret = try? identity.privateKey.sharedSecretFromKeyAgreement(with: sharePoint),
                      let wrapKey = try? Self.wrappingKey(secret, share: share, recipient: identity.recipient),
                      let box = try? ChaChaPoly.SealedBox(nonce: Self.zeroNonce, ciphertext: stanza.body.prefix(16), tag: stanza.body.suffix(16)),
                      let fileKey = try? ChaChaPoly.open(box, using: wrapKey), fileKey.count == 16 else { continue }
                let key = SymmetricKey(data: fileKey)
                guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: macInput, using: Self.macKey(key)) else {
                    throw EncryptionError(.headerTampered, "the age header of \(name) fails its MAC check: the object was modified")
                }
                return key
            }
        }
        let count = stanzas.filter { $0.type == "X25519" }.count
        throw EncryptionError(.wrongIdentity, "wrong identity: no key given opens \(name), which is encrypted to \(count) other X25519 recipient(s)")
    }

    // MARK: derivations

    private static let zeroNonce: ChaChaPoly.Nonce = {
        // 12 zero bytes is a valid nonce size; the fallback is never taken.
        (try? ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12))) ?? ChaChaPoly.Nonce()
    }()

    private static func wrappingKey(_ secret: SharedSecret, share: [UInt8], recipient: AgeRecipient) throws -> SymmetricKey {
        // An all-zero shared secret means a low-order point: the spec says to refuse it.
        guard secret.withUnsafeBytes({ $0.contains { $0 != 0 } }) else {
            throw EncryptionError(.malformedHeader, "an X25519 stanza uses a low-order point")
        }
        return secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: share + [UInt8](recipient.publicKey.rawRepresentation),
                                              sharedInfo: Array(x25519Label.utf8), outputByteCount: 32)
    }

    static func macKey(_ fileKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: [UInt8](), info: Array("header".utf8), outputByteCount: 32)
    }
}
