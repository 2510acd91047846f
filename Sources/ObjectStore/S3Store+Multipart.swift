import Crypto
import Foundation
import Support

/// One stored part, as CompleteMultipartUpload must name it.
struct CompletedPart: Sendable {
    var etag: String
    /// Base64 CRC-32 of the part when the upload declared the CRC32 checksum algorithm.
    var crc32: String?
}

/// A multipart upload the server still holds parts for.
package struct PendingMultipartUpload: Sendable, Equatable {
    package var key: String
    package var uploadId: String
    /// When the upload was started (S3's `Initiated`); nil when the server did not say.
    package var initiated: Date?

    package init(key: String, uploadId: String, initiated: Date? = nil) {
        self.key = key
        self.uploadId = uploadId
        self.initiated = initiated
    }
}

extension S3Store {
    func createMultipartUpload(key: String, metadata: [String: String], contentType: String, checksums: Bool? = nil) throws -> String {
        var headers = [("Content-Type", contentType)] + metadata.map { ("x-amz-meta-\($0.key)", $0.value) }
        if checksums ?? configuration.partChecksums { headers.append(("x-amz-checksum-algorithm", "CRC32")) }
        let response = try configuration.retry.run { _ in
            try request("POST", key: key, query: [(name: "uploads", value: "")], headers: headers)
        }
        guard let uploadId = S3XML(response.body).first("UploadId"), !uploadId.isEmpty else {
            throw ObjectStoreError(.serverError, store: displayName, key: key,
                                   cause: "CreateMultipartUpload answered without an UploadId")
        }
        return uploadId
    }

    /// Uploads one part with retries on `handle`; returns its ETag (and CRC-32).
    func uploadPart(key: String, uploadId: String, number: Int, body: UnsafeRawBufferPointer,
                    handle: CurlHandle, cancelled: (() -> Bool)? = nil) throws -> CompletedPart {
        var headers = [("Content-MD5", Self.md5Base64(body))]
        let crc32 = configuration.partChecksums ? Self.crc32Base64(body) : nil
        if let crc32 { headers.append(("x-amz-checksum-crc32", crc32)) }
        let query = [(name: "partNumber", value: String(number)), (name: "uploadId", value: uploadId)]
        let response = try configuration.retry.run(cancelled: cancelled) { _ in
            try request("PUT", key: key, query: query, headers: headers, body: body, bodyIsBound: true, handle: handle)
        }
        guard let etag = response.headers["etag"] else {
            throw ObjectStoreError(.serverError, store: displayName, key: key, cause: "part \(number) was stored without an ETag")
        }
        return CompletedPart(etag: etag, crc32: crc32)
    }

    /// Completion can fail with HTTP 200 and an `<Error>` body; `request` turns that into an error,
    /// so a retryable one (InternalError) is retried like any other.
    /// Returns the completed object's ETag (nil when the answer had none).
    @discardableResult
    func completeMultipartUpload(key: String, uploadId: String, parts: [CompletedPart],
                                 condition: WriteCondition = .none) throws -> String? {
        let xml = "<CompleteMultipartUpload>"
            + parts.enumerated().map { number, part in
                "<Part><PartNumber>\(number + 1)</PartNumber><ETag>\(S3XML.escape(part.etag))</ETag>"
                    + (part.crc32.map { "<ChecksumCRC32>\($0)</ChecksumCRC32>" } ?? "") + "</Part>"
            }.joined()
            + "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        let headers = [("Content-Type", "application/xml")] + (condition.header.map { [$0] } ?? [])
        return try configuration.retry.run { attempt in
            do {
                let response = try body.withUnsafeBytes { raw in
                    try request("POST", key: key, query: [(name: "uploadId", value: uploadId)], headers: headers, body: raw)
                }
                return S3XML(response.body).first("ETag") ?? response.headers["etag"]
            } catch let error as ObjectStoreError where attempt > 0 && error.serverCode == "NoSuchUpload" {
                // An earlier attempt completed the upload but its answer was lost on the way back.
                guard let info = try head(key: key), info.etag?.hasSuffix("-\(parts.count)\"") == true else { throw error }
                return info.etag
            } catch let error as ObjectStoreError where attempt > 0 && error.code == .preconditionFailed {
                // The same, for a conditional completion: the condition now fails against our own
                // object, recognised by its exact ETag (another writer's has other parts).
                guard let ours = Self.multipartETag(parts), let info = try head(key: key), info.etag == ours else { throw error }
                return ours
            }
        }
    }

    /// The ETag S3 gives a completed multipart upload: the MD5 of the parts' binary MD5s, then
    /// `-<parts>`; nil when a part's ETag is not a plain MD5 (SSE-KMS, other stores).
    static func multipartETag(_ parts: [CompletedPart]) -> String? {
        var digests: [UInt8] = []
        for part in parts {
            let hex = Array(part.etag.utf8.filter { $0 != UInt8(ascii: "\"") })
            guard hex.count == 32 else { return nil }
            for index in stride(from: 0, to: 32, by: 2) {
                guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
                digests.append(byte)
            }
        }
        return "\"\(Hex.encode(Insecure.MD5.hash(data: digests)))-\(parts.count)\""
    }

    /// Deletes the upload's parts. An upload that is already gone counts as aborted.
    func abortMultipartUpload(key: String, uploadId: String) throws {
        do {
            _ = try configuration.retry.run { _ in
                try request("DELETE", key: key, query: [(name: "uploadId", value: uploadId)])
            }
        } catch let error as ObjectStoreError where error.code == .notFound {
            return
        }
    }

    /// Multipart uploads started under `prefix` and neither completed nor aborted.
    package func listMultipartUploads(prefix: String) throws -> [PendingMultipartUpload] {
        var uploads: [PendingMultipartUpload] = []
        var marker: (key: String, uploadId: String)?
        var seen: Set<String> = []
        repeat {
            var query = [(name: "uploads", value: ""), (name: "prefix", value: prefix)]
            if let marker {
                query += [(name: "key-marker", value: marker.key), (name: "upload-id-marker", value: marker.uploadId)]
            }
            let response = try configuration.retry.run { _ in try request("GET", key: nil, query: query) }
            let page = S3XML(response.body)
            for entry in page.elements("Upload") {
                let item = S3XML(entry)
                if let key = item.first("Key"), let id = item.first("UploadId") {
                    uploads.append(PendingMultipartUpload(key: key, uploadId: id,
                                                          initiated: item.first("Initiated").flatMap(HTTPDate.parseISO8601)))
                }
            }
            marker = nil
            if page.first("IsTruncated") == "true" {
                guard let key = page.first("NextKeyMarker"), let id = page.first("NextUploadIdMarker") else {
                    throw ObjectStoreError(.serverError, store: displayName, key: prefix,
                                           cause: "the upload listing said it was truncated but gave no marker to continue from")
                }
                // A marker seen before would list the same page forever.
                guard seen.insert("\(key)\u{0}\(id)").inserted else {
                    throw ObjectStoreError(.serverError, store: displayName, key: prefix,
                                           cause: "the upload listing repeated a continuation marker; the server is misbehaving, so the listing stopped")
                }
                marker = (key, id)
            }
        } while marker != nil
        return uploads
    }

    /// Aborts one pending multipart upload (a listed leftover); one that is already gone counts.
    package func abortPendingUpload(_ upload: PendingMultipartUpload) throws {
        try abortMultipartUpload(key: upload.key, uploadId: upload.uploadId)
    }
}

extension S3Store: StaleUploadCleaning {
    package func listPendingUploads(prefix: String) throws -> [PendingMultipartUpload] {
        try listMultipartUploads(prefix: prefix)
    }

    /// Aborts the multipart uploads under `prefix` started more than `age` seconds before
    /// `now` (a killed run's leftovers) and returns them; younger ones, and those whose start
    /// the server does not state, are left alone.
    package func abortStaleUploads(prefix: String, olderThan age: TimeInterval, now: Date = Date()) throws -> [PendingMultipartUpload] {
        let stale = try listMultipartUploads(prefix: prefix).filter { upload in
            upload.initiated.map { now.timeIntervalSince($0) > age } ?? false
        }
        for upload in stale {
            try abortMultipartUpload(key: upload.key, uploadId: upload.uploadId)
        }
        return stale
    }
}
