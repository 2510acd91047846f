#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation

/// An X25519 identity, `AGE-SECRET-KEY-1…`. Its description shows only the public recipient:
/// a secret never reaches a log line or an error message by interpolation.
package struct AgeIdentity: Sendable, CustomStringConvertible {
    package let privateKey: Curve25519.KeyAgreement.PrivateKey

    package init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    package static func generate() -> AgeIdentity { AgeIdentity(privateKey: .init()) }

    /// Parses `AGE-SECRET-KEY-1…` (upper-case Bech32 as age-keygen writes it; lower-case too).
    package init(parsing text: String) throws {
        guard let decoded = Bech32.decode(text), decoded.hrp == "age-secret-key-", decoded.data.count == 32,
              let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: decoded.data) else {
            // The text may be a mistyped secret: the message never repeats it.
            throw EncryptionError(.invalidKey, "a line is not an age X25519 identity (AGE-SECRET-KEY-1… from age-keygen, with a valid checksum)")
        }
        privateKey = key
    }

    package var recipient: AgeRecipient { AgeRecipient(publicKey: privateKey.publicKey) }

    /// The secret key in age-keygen's form; for writing key files, never for logs.
    package var secretKeyText: String {
        Bech32.encode(hrp: "AGE-SECRET-KEY-", data: [UInt8](privateKey.rawRepresentation), uppercase: true)
    }

    package var description: String { "identity for \(recipient)" }

    /// Identities from a key file as age-keygen writes it: `AGE-SECRET-KEY-1…` lines, blank
    /// lines and `#` comments. `warn` is told when the file is readable by group or others.
    package static func load(file path: String, warn: ((String) -> Void)? = nil) throws -> [AgeIdentity] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw EncryptionError(.keyFile, "cannot read the identity file \(path): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & 0o077 != 0 {
            warn?("the identity file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); restrict it with chmod 600")
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw EncryptionError(.keyFile, "cannot read the identity file \(path) as text")
        }
        var identities: [AgeIdentity] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do {
                identities.append(try AgeIdentity(parsing: trimmed))
            } catch {
                throw EncryptionError(.invalidKey, "line \(number + 1) of \(path) is not an age identity (AGE-SECRET-KEY-1… from age-keygen)")
            }
        }
        guard !identities.isEmpty else {
            throw EncryptionError(.keyFile, "the identity file \(path) holds no AGE-SECRET-KEY-1… line")
        }
        return identities
    }
}
