/// Why encrypting or decrypting an age file failed. Messages never carry key material or any
/// decrypted bytes: they name the file and what was wrong with it.
package struct EncryptionError: Error, CustomStringConvertible, Sendable {
    package enum Code: Sendable {
        /// A recipient (`age1…`) or identity (`AGE-SECRET-KEY-1…`) that does not parse.
        case invalidKey
        /// A key file that cannot be read or holds no key.
        case keyFile
        /// The object is age-encrypted and no identity was given.
        case identityRequired
        /// None of the identities given opens any of the file's recipient stanzas.
        case wrongIdentity
        /// The header does not follow age-encryption.org/v1.
        case malformedHeader
        /// The header MAC does not match: the header was changed.
        case headerTampered
        /// A payload chunk failed authentication (changed, reordered or from another file).
        case chunkTampered
        /// The payload ends early (its last chunk is missing).
        case truncated
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
