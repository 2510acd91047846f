import Foundation

/// An upload that can take its final metadata when it finishes. A backup knows its size and
/// checksum only at the end: a folder store writes them with the object, an S3 upload that
/// fits in one part sends them with its single PutObject, and only a multipart upload needs
/// the server-side copy of `MetadataReplacing` (done here, after completion).
package protocol FinalMetadataUpload: ObjectUpload {
    /// `finish()`, storing `metadata` (and `contentType` when given) instead of what
    /// `makeUpload` was given.
    func finish(metadata: [String: String], contentType: String?) throws
}

/// Stores that can list and remove uploads a killed run left behind (S3 multipart uploads,
/// a folder store's temporary files).
package protocol StaleUploadCleaning {
    /// Uploads under `prefix` that were started and neither finished nor aborted.
    func listPendingUploads(prefix: String) throws -> [PendingMultipartUpload]
    /// Aborts those started (a folder store: last written) more than `age` seconds before
    /// `now`; returns them.
    func abortStaleUploads(prefix: String, olderThan age: TimeInterval, now: Date) throws -> [PendingMultipartUpload]
}

extension StaleUploadCleaning {
    package func abortStaleUploads(prefix: String, olderThan age: TimeInterval) throws -> [PendingMultipartUpload] {
        try abortStaleUploads(prefix: prefix, olderThan: age, now: Date())
    }
}
