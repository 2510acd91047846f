import ChunkIO

/// Recognises an age file by its first line, `age-encryption.org/v1`, and decrypts it with
/// `identities`; any other stream passes through untouched. A reader needs no flag or key
/// suffix to know: what an object starts with decides.
package final class AgeDetectingSink: ChunkSink {
    private let downstream: ChunkSink
    private let identities: [AgeIdentity]
    private let name: String
    private var target: ChunkSink?
    private var prefix: [UInt8] = []
    /// Whether the stream turned out to be age-encrypted (known after its first bytes).
    package private(set) var encrypted = false

    package init(downstream: ChunkSink, identities: [AgeIdentity], name: String) {
        self.downstream = downstream
        self.identities = identities
        self.name = name
    }

    package func write(_ chunk: Chunk) throws {
        if let target { return try target.write(chunk) }
        let magic = AgeHeader.versionLine
        if prefix.isEmpty && chunk.count >= magic.count {
            do {
                try decide(UnsafeRawBufferPointer(rebasing: chunk.bytes.prefix(magic.count)))
            } catch {
                chunk.recycle()
                throw error
            }
            try target?.write(chunk)
            return
        }
        // A first chunk shorter than the magic line (a store handing over tiny pieces).
        prefix += chunk.bytes
        chunk.recycle()
        if prefix.count >= magic.count { try flushPrefix() }
    }

    package func finish() throws {
        if target == nil { try flushPrefix() }
        try target?.finish()
    }

    package func abort(_ error: Error) {
        (target ?? downstream).abort(error)
    }

    private func decide(_ head: UnsafeRawBufferPointer) throws {
        encrypted = head.elementsEqual(AgeHeader.versionLine)
        if encrypted && identities.isEmpty {
            throw EncryptionError(.identityRequired, "\(name) is encrypted with age and no identity was given to decrypt it")
        }
        target = encrypted ? AgeDecryptSink(downstream: downstream, identities: identities, name: name) : downstream
    }

    private func flushPrefix() throws {
        let bytes = prefix
        prefix = []
        try bytes.withUnsafeBytes { raw in
            try decide(UnsafeRawBufferPointer(rebasing: raw.prefix(AgeHeader.versionLine.count)))
            let held = Chunk(capacity: raw.count)
            held.append(raw)
            held.sourceCount = held.count
            if held.count > 0 { try target?.write(held) }
        }
    }
}
