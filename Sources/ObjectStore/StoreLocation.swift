import Foundation

/// Turns a destination the user typed into a store and a key prefix.
///
/// - `s3://bucket/some/prefix/`: `S3Store` configured from AWS_* variables
/// - `r2://bucket/prefix/`: `S3Store` on Cloudflare R2 (R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY)
/// - `/abs/dir`, `./rel/dir`, `file:///abs/dir`: `DirectoryStore`, prefix empty
package struct StoreLocation {
    package static func parse(_ url: String, environment: [String: String]) throws -> (store: any ObjectStore, prefix: String) {
        if url.hasPrefix("s3://") || url.hasPrefix("r2://") {
            let isR2 = url.hasPrefix("r2://")
            let rest = url.dropFirst(5)
            let bucket = String(rest.prefix { $0 != "/" })
            let prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
            let validName = bucket.count >= 3 && bucket.count <= 63
                && bucket.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }
            guard validName else {
                throw ObjectStoreError(.invalidLocation, store: url, key: nil,
                                       cause: "\"\(bucket)\" is not a bucket name (3 to 63 lower-case letters, digits, '-' or '.'); write \(isR2 ? "r2" : "s3")://bucket/prefix/")
            }
            let configuration = isR2 ? try S3Configuration.r2FromEnvironment(environment)
                                     : try S3Configuration.fromEnvironment(environment)
            return (try S3Store(bucket: bucket, configuration: configuration), prefix)
        }
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count))
            guard path.hasPrefix("/") else {
                throw ObjectStoreError(.invalidLocation, store: url, key: nil, cause: "a file URL needs an absolute path: file:///abs/dir")
            }
            return (DirectoryStore(root: path), "")
        }
        if url.contains("://") {
            throw ObjectStoreError(.invalidLocation, store: url, key: nil,
                                   cause: "unknown scheme; use s3://bucket/prefix/, r2://bucket/prefix/, a folder path or file:///abs/dir")
        }
        guard !url.isEmpty else {
            throw ObjectStoreError(.invalidLocation, store: "(empty)", key: nil, cause: "the destination is empty")
        }
        let absolute = url.hasPrefix("/") ? url
            : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(url)
        return (DirectoryStore(root: (absolute as NSString).standardizingPath), "")
    }
}
