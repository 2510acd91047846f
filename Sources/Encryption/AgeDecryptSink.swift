import ChunkIO
import Crypto
import Foundation

/// Decrypts an age v1 stream as it arrives: reads the header, unwraps the file key with one
/// of `identities`, checks the header MAC, then opens each 64 KiB chunk and hands its
/// plaintext downstream only after the chunk authenticated — a changed, reordered or cut
/// chunk fails before any of its bytes move on. Memory: one sealed chunk, the header while
/// it is read (at most 1 MiB), and a small output pool.
package final class AgeDecryptSink: ChunkSink {
    private enum State {
        case header([UInt8])
        case nonce(SymmetricKey, [UInt8])
        case payload
    }

    private let downstream: ChunkSink
    private let identities: [AgeIdentity]
    private let name: String
    private var state = State.header([])
    private var payload: AgePayload?
    private let pending: UnsafeMutableRawPointer
    private var pendingCount = 0
    private let pool: ChunkPool
    /// Plaintext bytes handed downstream.
    package private(set) var bytesOut = 0

    /// - Parameter name: what the stream is (an object key), for error messages.
    package init(downstream: ChunkSink, identities: [AgeIdentity], name: String, buffers: Int = 4) {
        self.downstream = downstream
        self.identities = identities
        self.name = name
        pending = UnsafeMutableRawPointer.allocate(byteCount: AgePayload.sealedChunkSize, alignment: 64)
        pool = ChunkPool(size: buffers, chunkCapacity: AgePayload.chunkSize)
    }

    deinit { pending.deallocate() }

    package func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        try consume(chunk.bytes)
    }

    package func finish() throws {
        guard case .payload = state, var payload else {
            throw EncryptionError(.truncated, "\(name) ends inside its age header: the object was cut short")
        }
        let sealed = UnsafeRawBufferPointer(start: pending, count: pendingCount)
        guard let plain = payload.open(sealed, last: true) else {
            if pendingCount == AgePayload.sealedChunkSize, payload.open(sealed, last: false) != nil {
                throw EncryptionError(.truncated, "\(name) ends after encrypted chunk \(payload.counter - 1), which is not the last one: the object was cut short")
            }
            if pendingCount < AgePayload.tagSize {
                throw EncryptionError(.truncated, "\(name) ends before its last encrypted chunk: the object was cut short")
            }
            throw EncryptionError(.chunkTampered, "the last encrypted chunk (\(payload.counter)) of \(name) fails authentication: the object was cut short or modified")
        }
        // Only an empty file may end with an empty chunk (the spec's rule against extension).
        if plain.isEmpty && payload.counter > 1 {
            throw EncryptionError(.chunkTampered, "\(name) ends with an empty encrypted chunk after data: the object was modified")
        }
        self.payload = payload
        try emit(plain)
        try downstream.finish()
    }

    package func abort(_ error: Error) {
        pool.fail(error)
        downstream.abort(error)
    }

    private func consume(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let input = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            switch state {
            case .header(var buffer):
                // Header lines are short: take a few KiB at a time and parse what has arrived.
                let n = min(input.count, 4096)
                buffer += input.prefix(n)
                offset += n
                guard let (header, length) = try AgeHeader.parse(buffer, name: name) else {
                    state = .header(buffer)
                    continue
                }
                guard !identities.isEmpty else {
                    throw EncryptionError(.identityRequired, "\(name) is encrypted with age and no identity was given to decrypt it")
                }
                state = .nonce(try header.unwrapFileKey(with: identities, name: name), [])
                // What followed the header goes around again as the nonce and the payload.
                let rest = Array(buffer[length...])
                try rest.withUnsafeBytes { try consume($0) }
            case .nonce(let fileKey, var nonce):
                let n = min(input.count, AgePayload.nonceSize - nonce.count)
                nonce += input.prefix(n)
                offset += n
                if nonce.count == AgePayload.nonceSize {
                    payload = AgePayload(fileKey: fileKey, nonce: nonce)
                    state = .payload
                } else {
                    state = .nonce(fileKey, nonce)
                }
            case .payload:
                // A full sealed chunk is opened as a middle chunk only once more bytes arrive:
                // until then it may be the last one.
                if pendingCount == AgePayload.sealedChunkSize { try openMiddle() }
                let n = min(input.count, AgePayload.sealedChunkSize - pendingCount)
                if let base = input.baseAddress { (pending + pendingCount).copyMemory(from: base, byteCount: n) }
                pendingCount += n
                offset += n
            }
        }
    }

    private func openMiddle() throws {
        guard var payload else { return }
        let sealed = UnsafeRawBufferPointer(start: pending, count: pendingCount)
        guard let plain = payload.open(sealed, last: false) else {
            let index = payload.counter
            if payload.open(sealed, last: true) != nil {
                throw EncryptionError(.chunkTampered, "\(name) has data after its last encrypted chunk: the object was modified")
            }
            throw EncryptionError(.chunkTampered, "encrypted chunk \(index) of \(name) fails authentication: the object was modified or its chunks reordered")
        }
        self.payload = payload
        pendingCount = 0
        try emit(plain)
    }

    private func emit(_ plain: Data) throws {
        guard !plain.isEmpty else { return }
        let out = try pool.take()
        plain.withUnsafeBytes { _ = out.append($0) }
        out.sourceCount = out.count
        bytesOut += out.count
        try downstream.write(out)
    }
}
