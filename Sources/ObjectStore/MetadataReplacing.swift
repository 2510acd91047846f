import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Stores that can rewrite an object's metadata after it was written. A streamed backup only
/// knows its size and checksum at the end, after a multipart upload has fixed its metadata.
package protocol MetadataReplacing {
    /// With `ifMatch`, only the object of that ETag is rewritten (else `.preconditionFailed`):
    /// a writer rewrites its own object, never one that replaced it meanwhile.
    func replaceMetadata(key: String, metadata: [String: String], contentType: String, ifMatch: String?) throws
}

extension MetadataReplacing {
    package func replaceMetadata(key: String, metadata: [String: String], contentType: String) throws {
        try replaceMetadata(key: key, metadata: metadata, contentType: contentType, ifMatch: nil)
    }
}

extension S3Store: MetadataReplacing {
    /// A server-side copy onto itself with the new metadata: CopyObject up to
    /// `configuration.multipartCopyThreshold` (S3 allows it to 5 GiB), a multipart copy above.
    package func replaceMetadata(key: String, metadata: [String: String], contentType: String, ifMatch: String?) throws {
        try validate(key: key, metadata: metadata)
        guard let info = try head(key: key) else {
            throw ObjectStoreError(.notFound, store: displayName, key: key, cause: "no such object").at(.copyMetadata)
        }
        if let ifMatch, info.etag != ifMatch {
            throw ObjectStoreError(.preconditionFailed, store: displayName, key: key,
                                   cause: "its ETag is \(info.etag ?? "unknown"), not \(ifMatch)").at(.copyMetadata)
        }
        try rewriteMetadata(key: key, size: info.size, etag: ifMatch ?? info.etag, metadata: metadata, contentType: contentType)
    }

    /// `etag`, when known, pins the copy to that version of the object. Returns the new ETag.
    @discardableResult
    func rewriteMetadata(key: String, size: Int, etag: String?, metadata: [String: String], contentType: String) throws -> String? {
        let source = URIEncoding.encodePath("/\(bucket)/\(key)")
        let pin = etag.map { [("x-amz-copy-source-if-match", $0)] } ?? []
        do {
            if size <= configuration.multipartCopyThreshold || size == 0 {
                let headers = [("x-amz-copy-source", source), ("x-amz-metadata-directive", "REPLACE"),
                               ("Content-Type", contentType)] + pin + metadata.map { ("x-amz-meta-\($0.key)", $0.value) }
                let response = try configuration.retry.run { _ in try request("PUT", key: key, headers: headers) }
                return S3XML(response.body).first("ETag") ?? response.headers["etag"]
            }
            return try multipartCopy(key: key, source: source, pin: pin, size: size, metadata: metadata, contentType: contentType)
        } catch {
            throw ObjectStoreError.wrap(error, stage: .copyMetadata, store: displayName, key: key)
        }
    }

    /// CreateMultipartUpload with the new metadata, UploadPartCopy of consecutive byte ranges
    /// (all but the last at least 5 MiB), Complete; aborted on failure, leaving the object as it was.
    private func multipartCopy(key: String, source: String, pin: [(String, String)], size: Int,
                               metadata: [String: String], contentType: String) throws -> String? {
        let partSize = max(configuration.copyPartSize, S3Configuration.minimumPartSize,
                           (size + S3Configuration.maximumParts - 1) / S3Configuration.maximumParts)
        let uploadId = try createMultipartUpload(key: key, metadata: metadata, contentType: contentType, checksums: false)
        do {
            var parts: [CompletedPart] = []
            var start = 0
            while start < size {
                let end = min(start + partSize, size) - 1
                let number = parts.count + 1
                let headers = [("x-amz-copy-source", source), ("x-amz-copy-source-range", "bytes=\(start)-\(end)")] + pin
                let query = [(name: "partNumber", value: String(number)), (name: "uploadId", value: uploadId)]
                let response = try configuration.retry.run { _ in try request("PUT", key: key, query: query, headers: headers) }
                guard let etag = S3XML(response.body).first("ETag") ?? response.headers["etag"] else {
                    throw ObjectStoreError(.serverError, store: displayName, key: key, cause: "UploadPartCopy of part \(number) answered without an ETag")
                }
                parts.append(CompletedPart(etag: etag, crc32: nil))
                start = end + 1
            }
            return try completeMultipartUpload(key: key, uploadId: uploadId, parts: parts)
        } catch {
            try? abortMultipartUpload(key: key, uploadId: uploadId)
            throw error
        }
    }
}

extension DirectoryStore: MetadataReplacing {
    package func replaceMetadata(key: String, metadata: [String: String], contentType: String, ifMatch: String?) throws {
        let name = try objectName(key)
        guard let chain = try openFolders(of: key, create: false) else { throw notFound(key, "no such object") }
        // Under the folder's lock, so a conditional writer cannot replace the object between the check and the write.
        try withFolderLock(chain.last, key: key, exclusive: ifMatch != nil) {
            let (kind, info) = chain.last.kind(of: name)
            switch kind {
            case .regular: break
            case .symlink: throw linkRefused(key, "it is a symbolic link")
            default: throw notFound(key, "no such object")
            }
            if let ifMatch, !Self.sameETag(Self.etag(info), ifMatch) {
                throw preconditionFailed(key, "its ETag is \(Self.etag(info)), not \(ifMatch)")
            }
            try writeSidecar(in: chain.last, name: name, key: key, metadata: metadata, contentType: contentType)
        }
    }
}
