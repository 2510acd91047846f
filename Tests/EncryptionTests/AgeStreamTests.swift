import ChunkIO
import Encryption
import Foundation
import Testing
import TestSupport

/// The STREAM framing against the real `age` CLI, both directions, and every way a stored
/// object can be damaged.
@Suite struct AgeStreamTests {
    static let chunk = 64 << 10

    /// Sizes around the 64 KiB chunk boundaries, where the last-chunk rule bites.
    static let sizes = [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 200_003]

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Feeds `bytes` to `sink` in pieces of `piece` bytes, then finishes it.
    static func feed(_ bytes: [UInt8], into sink: ChunkSink, piece: Int = 10_000) throws {
        var offset = 0
        while offset < bytes.count {
            let part = bytes[offset..<min(offset + piece, bytes.count)]
            let chunk = Chunk(capacity: part.count)
            part.withUnsafeBytes { _ = chunk.append($0) }
            try sink.write(chunk)
            offset += part.count
        }
        try sink.finish()
    }

    static func encrypt(_ plain: [UInt8], to recipients: [AgeRecipient]) throws -> [UInt8] {
        let out = CollectingSink()
        try feed(plain, into: try AgeEncryptSink(downstream: out, recipients: recipients))
        return out.bytes
    }

    static func decrypt(_ sealed: [UInt8], with identities: [AgeIdentity], piece: Int = 7_001) throws -> [UInt8] {
        let out = CollectingSink()
        try feed(sealed, into: AgeDetectingSink(downstream: out, identities: identities, name: "test.age"), piece: piece)
        return out.bytes
    }

    struct Keys {
        let dir: TemporaryDirectory
        let keyFile: String
        let identity: AgeIdentity

        init() throws {
            dir = try TemporaryDirectory("age")
            keyFile = dir.file("key.txt")
            #expect(try ProcessRunner.run(["age-keygen", "-o", keyFile]).status == 0)
            identity = try #require(try AgeIdentity.load(file: keyFile).first)
        }
    }

    @Test(arguments: AgeStreamTests.sizes) func ourFilesDecryptWithAge(size: Int) throws {
        let keys = try Keys()
        defer { keys.dir.remove() }
        let plain = Self.randomBytes(size)
        let sealed = try Self.encrypt(plain, to: [keys.identity.recipient, AgeIdentity.generate().recipient])
        try Data(sealed).write(to: URL(fileURLWithPath: keys.dir.file("x.age")))
        let result = try ProcessRunner.run(["age", "-d", "-i", keys.keyFile, keys.dir.file("x.age")])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect([UInt8](result.stdout) == plain)
    }

    @Test(arguments: AgeStreamTests.sizes) func ageFilesDecryptHere(size: Int) throws {
        let keys = try Keys()
        defer { keys.dir.remove() }
        let other = AgeIdentity.generate()
        let plain = Self.randomBytes(size)
        try Data(plain).write(to: URL(fileURLWithPath: keys.dir.file("plain")))
        for recipients in [[keys.identity.recipient], [other.recipient, keys.identity.recipient, AgeIdentity.generate().recipient]] {
            let args = recipients.flatMap { ["-r", $0.description] }
            let result = try ProcessRunner.run(["age"] + args + ["-o", keys.dir.file("x.age"), keys.dir.file("plain")])
            #expect(result.status == 0, "\(result.stderrText)")
            let sealed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: keys.dir.file("x.age"))))
            #expect(try Self.decrypt(sealed, with: [keys.identity]) == plain)
            #expect(try Self.decrypt(sealed, with: [AgeIdentity.generate(), keys.identity], piece: 1) == plain)
        }
    }

    @Test func plainStreamsPassThrough() throws {
        for plain in [[], Array("age".utf8), Array("-- a plain SQL dump, not encrypted\n".utf8) + Self.randomBytes(100_000)] {
            #expect(try Self.decrypt(plain, with: []) == plain)
        }
    }

    func expectFailure(_ sealed: [UInt8], identities: [AgeIdentity], code: EncryptionError.Code,
                       deliveredAtMost limit: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let out = CollectingSink()
        let sink = AgeDetectingSink(downstream: out, identities: identities, name: "test.age")
        do {
            try Self.feed(sealed, into: sink, piece: 50_000)
            Issue.record("decryption succeeded", sourceLocation: sourceLocation)
        } catch let error as EncryptionError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
        #expect(!out.finished, sourceLocation: sourceLocation)
        // Nothing of a chunk that failed ever reached the sink.
        #expect(out.bytes.count <= limit, sourceLocation: sourceLocation)
    }

    @Test func damageFailsBeforeItsBytesMoveOn() throws {
        let identity = AgeIdentity.generate()
        let plain = Self.randomBytes(4 * Self.chunk + 100)
        let sealed = try Self.encrypt(plain, to: [identity.recipient])
        let sealedChunk = Self.chunk + 16
        let payloadStart = sealed.count - (4 * sealedChunk + 116)

        var flipped = sealed
        flipped[payloadStart + 2 * sealedChunk + 5] ^= 0x01
        expectFailure(flipped, identities: [identity], code: .chunkTampered, deliveredAtMost: 2 * Self.chunk)

        expectFailure(Array(sealed.prefix(payloadStart + 2 * sealedChunk)), identities: [identity], code: .truncated,
                      deliveredAtMost: 2 * Self.chunk)
        expectFailure(Array(sealed.prefix(sealed.count - 1)), identities: [identity], code: .chunkTampered,
                      deliveredAtMost: 4 * Self.chunk)
        expectFailure(Array(sealed.prefix(40)), identities: [identity], code: .truncated, deliveredAtMost: 0)

        var swapped = sealed
        let first = payloadStart + sealedChunk, second = payloadStart + 2 * sealedChunk
        swapped.replaceSubrange(first..<first + sealedChunk, with: sealed[second..<second + sealedChunk])
        swapped.replaceSubrange(second..<second + sealedChunk, with: sealed[first..<first + sealedChunk])
        expectFailure(swapped, identities: [identity], code: .chunkTampered, deliveredAtMost: Self.chunk)

        expectFailure(sealed + [0], identities: [identity], code: .chunkTampered, deliveredAtMost: 4 * Self.chunk)
        expectFailure(sealed, identities: [AgeIdentity.generate()], code: .wrongIdentity, deliveredAtMost: 0)
        expectFailure(sealed, identities: [], code: .identityRequired, deliveredAtMost: 0)

        // The header's MAC covers the stanzas: a changed header byte is caught before any payload.
        var header = sealed
        let macOffset = try #require(sealed.firstRange(of: Array("\n--- ".utf8))).upperBound
        header[macOffset] = header[macOffset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        expectFailure(header, identities: [identity], code: .headerTampered, deliveredAtMost: 0)
    }

    @Test func theWholeOutputIsCiphertext() throws {
        let marker = Array("MARKER-7f3c9a-secret-customer-row".utf8)
        let plain = (0..<5000).flatMap { _ in marker }
        let sealed = try Self.encrypt(plain, to: [AgeIdentity.generate().recipient])
        #expect(!Data(sealed).contains(Data(marker)))
        #expect(!Data(sealed).contains(Data(marker.prefix(8))))
    }
}
