import ChunkIO
import Encryption

/// How a backup is encrypted and read back with age, kept apart from the jobs so each of them
/// changes by a line: the stage a backup adds after gzip, the metadata it records, and the
/// stage every reader puts in front of its decoder.
package enum BackupEncryption {
    /// The age stage between the compressor and the upload; nil without recipients.
    static func encrypting(_ upload: ChunkSink, recipients: [AgeRecipient]) throws -> AgeEncryptSink? {
        recipients.isEmpty ? nil : try AgeEncryptSink(downstream: upload, recipients: recipients)
    }

    /// Marks the metadata of an encrypted backup and leaves out what describes its contents
    /// (table and row counts); sizes and the checksum of the plain SQL stay.
    static func describe(_ metadata: inout [String: String], recipients: [AgeRecipient]) {
        guard !recipients.isEmpty else { return }
        metadata[BackupMetadata.encryption] = "age"
        metadata[BackupMetadata.recipients] = recipients.map(\.description).joined(separator: ",")
        metadata[BackupMetadata.tablesCount] = nil
        metadata[BackupMetadata.rowsCount] = nil
    }

    /// What a reader puts first: an object that starts with age's first line is decrypted
    /// with `identities` (or refused without them); any other passes through.
    static func decrypting(_ downstream: ChunkSink, entry: BackupEntry, identities: [AgeIdentity]) -> ChunkSink {
        AgeDetectingSink(downstream: downstream, identities: identities, name: entry.info.key)
    }
}
