import ChunkIO

/// Recognises an age file by its first line, `age-encryption.org/v1`, and decrypts it with
/// `identities`; any other stream passes through untouched. A reader needs no flag or key
/// suffix to know: what an object starts with decides.
package final class AgeDetectingSink: ChunkSink {
    private let downstream: ChunkSink
    private let identities: [AgeIdentity]
    private let name: String
    private var router: PrefixRoutingSink?

    package init(downstream: ChunkSink, identities: [AgeIdentity], name: String) {
        self.downstream = downstream
        self.identities = identities
        self.name = name
        router = PrefixRoutingSink(undecided: downstream) { [unowned self] prefix, atEnd in
            let magic = AgeHeader.versionLine
            guard prefix.count >= magic.count || atEnd else { return nil }
            return try route(encrypted: prefix.prefix(magic.count).elementsEqual(magic))
        }
    }

    package func write(_ chunk: Chunk) throws { try router?.write(chunk) }
    package func finish() throws { try router?.finish() }
    package func abort(_ error: Error) { router?.abort(error) }

    private func route(encrypted: Bool) throws -> ChunkSink {
        guard encrypted else { return downstream }
        if identities.isEmpty {
            throw EncryptionError(.identityRequired, "\(name) is encrypted with age and no identity was given to decrypt it")
        }
        return AgeDecryptSink(downstream: downstream, identities: identities, name: name)
    }
}
