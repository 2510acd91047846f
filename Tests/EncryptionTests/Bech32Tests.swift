import Encryption
import Foundation
import Testing
import TestSupport

@Suite struct Bech32Tests {
    @Test func bip173ValidStringsDecode() {
        for text in ["A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                     "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"] {
            #expect(Bech32.decode(text) != nil, "\(text)")
        }
        #expect(Bech32.decode("A12UEL5L")?.hrp == "a")
    }

    @Test func bip173InvalidStringsAreRefused() {
        // Mixed case, no separator, empty HRP, bad checksum, a character outside the alphabet.
        for text in ["A12uEL5L", "pzry9x0s0muk", "1pzry9x0s0muk", "a12uel5m", "x1b4n0q5v", "li1dgmt3", "A1G7SGD8"] {
            #expect(Bech32.decode(text) == nil, "\(text)")
        }
    }

    @Test func roundTripsData() throws {
        let data = (0..<32).map { UInt8($0 * 7 & 0xff) }
        let text = Bech32.encode(hrp: "age", data: data)
        let decoded = try #require(Bech32.decode(text))
        #expect(decoded.hrp == "age" && decoded.data == data)
        #expect(Bech32.encode(hrp: "AGE-SECRET-KEY-", data: data, uppercase: true) == Bech32.encode(hrp: "age-secret-key-", data: data).uppercased())
    }

    @Test func keysFromAgeKeygenParse() throws {
        let dir = try TemporaryDirectory("bech32")
        defer { dir.remove() }
        let keyFile = dir.file("key.txt")
        #expect(try ProcessRunner.run(["age-keygen", "-o", keyFile]).status == 0)
        let expected = try ProcessRunner.run(["age-keygen", "-y", keyFile]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let identities = try AgeIdentity.load(file: keyFile)
        #expect(identities.count == 1)
        #expect(identities[0].recipient.description == expected)
        #expect(try AgeRecipient(parsing: expected) == identities[0].recipient)
        // What we write back is what age-keygen wrote.
        let secretLine = try String(contentsOfFile: keyFile, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") }
        #expect(identities[0].secretKeyText == secretLine.map(String.init))
        // The identity never prints its secret.
        #expect(!"\(identities[0])".contains("AGE-SECRET-KEY"))
    }

    @Test func aBadChecksumOrWrongKindIsRefused() throws {
        let identity = AgeIdentity.generate()
        var recipient = Array(identity.recipient.description)
        recipient[recipient.count - 1] = recipient.last == "q" ? "p" : "q"
        #expect(throws: EncryptionError.self) { try AgeRecipient(parsing: String(recipient)) }
        // A secret key is not a recipient, and a recipient is not an identity.
        #expect(throws: EncryptionError.self) { try AgeRecipient(parsing: identity.secretKeyText) }
        #expect(throws: EncryptionError.self) { try AgeIdentity(parsing: identity.recipient.description) }
        var secret = Array(identity.secretKeyText)
        secret[20] = secret[20] == "Q" ? "P" : "Q"
        #expect(throws: EncryptionError.self) { try AgeIdentity(parsing: String(secret)) }
    }

    @Test func identityFileReadableByOthersWarns() throws {
        let dir = try TemporaryDirectory("bech32")
        defer { dir.remove() }
        let keyFile = dir.file("key.txt")
        let identity = AgeIdentity.generate()
        try "# created: now\n# public key: \(identity.recipient)\n\(identity.secretKeyText)\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        chmod(keyFile, 0o600)
        var warnings: [String] = []
        _ = try AgeIdentity.load(file: keyFile) { warnings.append($0) }
        #expect(warnings.isEmpty)
        chmod(keyFile, 0o644)
        let loaded = try AgeIdentity.load(file: keyFile) { warnings.append($0) }
        #expect(loaded.first?.recipient == identity.recipient)
        #expect(warnings.count == 1 && warnings[0].contains("readable by others"))
        #expect(!warnings[0].contains(identity.secretKeyText))
    }
}
