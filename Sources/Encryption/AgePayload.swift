import Crypto
import Foundation

/// The STREAM construction of age's payload: 64 KiB plaintext chunks, each sealed with
/// ChaCha20-Poly1305 under the payload key and a nonce of an 11-byte big-endian counter and a
/// last-chunk flag byte. The counter makes chunks independent of each other but bound to
/// their position, so a reordered, dropped or appended chunk fails to open.
struct AgePayload {
    static let chunkSize = 64 << 10
    static let tagSize = 16
    static let sealedChunkSize = chunkSize + tagSize
    static let nonceSize = 16

    private let key: SymmetricKey
    private(set) var counter: UInt64 = 0

    /// The payload key: HKDF-SHA-256 of the file key, salted with the file's random nonce.
    init(fileKey: SymmetricKey, nonce: [UInt8]) {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: nonce, info: Array("payload".utf8), outputByteCount: 32)
    }

    private func nonce(last: Bool) -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { bytes[10 - i] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(i))) }
        bytes[11] = last ? 1 : 0
        // Twelve bytes is ChaChaPoly's nonce size; the fallback is never taken.
        return (try? ChaChaPoly.Nonce(data: bytes)) ?? ChaChaPoly.Nonce()
    }

    /// Seals the next chunk into `output`, which has room for `plaintext.count + 16` bytes.
    mutating func seal(_ plaintext: UnsafeRawBufferPointer, last: Bool, into output: UnsafeMutableRawPointer) throws -> Int {
        let box = try ChaChaPoly.seal(plaintext, using: key, nonce: nonce(last: last))
        var written = 0
        for part in [box.ciphertext, box.tag] {
            part.withUnsafeBytes { raw in
                if let base = raw.baseAddress { (output + written).copyMemory(from: base, byteCount: raw.count) }
                written += raw.count
            }
        }
        counter += 1
        return written
    }

    /// Opens the next chunk; nil when it fails authentication as the chunk at this position
    /// with this flag (the counter does not move then).
    mutating func open(_ sealed: UnsafeRawBufferPointer, last: Bool) -> Data? {
        guard sealed.count >= Self.tagSize,
              let box = try? ChaChaPoly.SealedBox(nonce: nonce(last: last),
                                                  ciphertext: UnsafeRawBufferPointer(rebasing: sealed.prefix(sealed.count - Self.tagSize)),
                                                  tag: UnsafeRawBufferPointer(rebasing: sealed.suffix(Self.tagSize))),
              let plain = try? ChaChaPoly.open(box, using: key) else { return nil }
        counter += 1
        return plain
    }
}
