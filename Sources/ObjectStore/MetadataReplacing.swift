import Foundation

/// Stores that can rewrite an object's metadata after it was written. A streamed backup only
/// knows its size and checksum at the end, after a multipart upload has fixed its metadata.
public protocol MetadataReplacing {
    func replaceMetadata(key: String, metadata: [String: String], contentType: String) throws
}

extension S3Store: MetadataReplacing {
    /// CopyObject onto itself with `x-amz-metadata-directive: REPLACE` (server-side, no data
    /// transfer; S3 allows it for objects up to 5 GiB).
    public func replaceMetadata(key: String, metadata: [String: String], contentType: String) throws {
        try validate(key: key, metadata: metadata)
        let headers = [
            ("x-amz-copy-source", URIEncoding.encodePath("/\(bucket)/\(key)")),
            ("x-amz-metadata-directive", "REPLACE"),
            ("Content-Type", contentType),
        ] + metadata.map { ("x-amz-meta-\($0.key)", $0.value) }
        _ = try configuration.retry.run { _ in
            try request("PUT", key: key, headers: headers)
        }
    }
}

extension DirectoryStore: MetadataReplacing {
    public func replaceMetadata(key: String, metadata: [String: String], contentType: String) throws {
        let path = try filePath(key)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ObjectStoreError(.notFound, store: displayName, key: key, cause: "no such object")
        }
        try writeSidecar(for: key, path: path, metadata: metadata, contentType: contentType)
    }
}
