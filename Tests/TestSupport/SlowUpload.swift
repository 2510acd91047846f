import Foundation

/// A backup slow enough to interrupt: an 80 MB random-blob database compressed at level 9 on
/// one thread, uploading to an S3 `store` on `server`.
package enum SlowUpload {
    /// Starts the backup and waits until its multipart upload is listed; returns the running
    /// process and whether the upload was seen before the process ended.
    package static func start(server: S3TestServer, bucket: String, store: String, in dir: TemporaryDirectory,
                              extraArguments: [String] = []) throws -> (process: Process, uploading: Bool) {
        let source = dir.file("big.db")
        try TestDatabase(source).execute("""
            CREATE TABLE blobs(id INTEGER PRIMARY KEY, b BLOB);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
            INSERT INTO blobs SELECT i, randomblob(20000) FROM n;
            """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Fixtures.backstreamBinary)
        process.arguments = ["backup", source, "--store", store, "--level", "9", "--threads", "1"] + extraArguments
        process.environment = ProcessInfo.processInfo.environment.merging(server.environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var uploading = false
        for _ in 0..<400 where !uploading && process.isRunning {
            uploading = try server.pendingUploads(bucket).stdoutText.contains("database-")
            if !uploading { Thread.sleep(forTimeInterval: 0.05) }
        }
        return (process, uploading)
    }
}

extension S3TestServer {
    /// The keys of `bucket`'s unfinished multipart uploads, as `aws` lists them.
    package func pendingUploads(_ bucket: String) throws -> ProcessResult {
        try aws(["s3api", "list-multipart-uploads", "--bucket", bucket, "--query", "Uploads[].Key", "--output", "text"])
    }
}
