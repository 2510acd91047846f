import ChunkIO
import Compression
import Encryption
import Foundation
import ObjectStore
import SQLiteDump
import Support

/// `backstream backup`: snapshot → SQL → parallel gzip or zstd → streaming upload, in one pass with no
/// temporary file, then retention. Any failure aborts the upload and leaves no object.
package struct BackupJob {
    package enum Trigger: String, Sendable { case manual, scheduled }

    package struct Options: Sendable {
        package var dialect: Dialect = .sqlite
        package var compression = CompressionMethod.gzip
        /// nil: the method's default (gzip 6, zstd 3).
        package var level: Int?
        package var threads = ProcessInfo.processInfo.activeProcessorCount
        package var retention = RetentionPolicy()
        package var prune = true
        package var activityLog = true
        package var trigger: Trigger = .manual
        package var userID: String?
        package var cancellation: Cancellation?
        package var progress: (@Sendable (DumpProgress) -> Void)?
        package var busyTimeoutMilliseconds: Int32 = 5000
        /// Told about problems that do not fail the backup (an activity log that cannot be written).
        package var warn: (@Sendable (String) -> Void)?
        /// Multipart uploads under the prefix started longer ago than this are a killed run's
        /// leftovers and are aborted before the backup starts; nil leaves them.
        package var staleUploadAge: TimeInterval? = BackupJob.defaultStaleUploadAge
        /// age recipients: when any, the object is encrypted to them (`….sql.gz.age`).
        package var recipients: [AgeRecipient] = []
        /// Reads a source other than the local file (a D1 database); its final notes (the D1
        /// bookmark) join the object metadata.
        package var openSource: DumpJob.SourceOpener?
        /// The date written into the key. nil: the start time, suffixed (`-1`, …) past keys
        /// already there. A fleet passes the scheduled time, so every replica names a scheduled
        /// run's backup alike and the store refuses all but the first (`.alreadyExists`).
        package var keyDate: Date?
        package init() {}
    }

    /// 24 hours: far longer than any backup runs, so a running one is never touched.
    package static let defaultStaleUploadAge: TimeInterval = 24 * 3600

    package struct Outcome: Sendable {
        package var key: String
        package var size: Int
        package var tables: Int
        package var rows: Int64
        package var sqlBytes: Int64
        package var seconds: Double
        package var contentCRC32: UInt32
        package var metadata: [String: String]
        package var deletedCount: Int?
        /// Why pruning after the upload failed; the backup itself succeeded.
        package var pruneError: String?
        /// Stale multipart uploads aborted before this backup.
        package var abortedStaleUploads = 0

        package var json: JSONValue {
            var fields: [(String, JSONValue)] = [
                ("key", .string(key)), ("size", .int(Int64(size))), ("tables", .int(Int64(tables))),
                ("rows", .int(rows)), ("duration_ms", .int(Int64(seconds * 1000))),
                ("metadata", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ]
            if let deletedCount { fields.append(("deleted_count", .int(Int64(deletedCount)))) }
            if let pruneError { fields.append(("prune_error", .string(pruneError))) }
            return .object(fields)
        }
    }

    package static func run(databasePath: String, destination: BackupDestination, options: Options) throws -> Outcome {
        let lock = try BackupLock(database: databasePath)
        defer { withExtendedLifetime(lock) {} }
        let started = Date()
        var result: Outcome
        do {
            let aborted = abortStaleUploads(destination, olderThan: options.staleUploadAge, now: started, warn: options.warn)
            result = try DumpJob.retryingChangedSource {
                try upload(databasePath: databasePath, destination: destination, options: options, started: started)
            }
            result.abortedStaleUploads = aborted
        } catch {
            if options.activityLog {
                let action: ActivityLog.Action = options.trigger == .scheduled ? .scheduledFailed : .backupFailed
                let details = JSONValue.object([("error", .string("\(error)")), ("started", .string(BackupMetadata.iso8601(started)))])
                ActivityLog.recordOrWarn(databasePath: databasePath, action: action, details: details,
                                         userID: options.userID, warn: options.warn)
            }
            throw error
        }
        // The object is stored: nothing after this point changes the backup's outcome.
        if options.activityLog {
            let action: ActivityLog.Action = options.trigger == .scheduled ? .scheduledCompleted : .backupCreated
            ActivityLog.recordOrWarn(databasePath: databasePath, action: action, details: result.json,
                                     userID: options.userID, warn: options.warn)
        }
        if options.prune && options.cancellation?.isCancelled != true {
            do {
                result.deletedCount = try PruneJob.run(destination: destination, policy: options.retention, dryRun: false,
                                                       databasePath: options.activityLog ? databasePath : nil,
                                                       userID: options.userID, warn: options.warn).deleted.count
            } catch {
                result.pruneError = "\(error)"
                options.warn?("the backup \(result.key) is stored, but pruning old backups failed: \(error)")
            }
        }
        return result
    }

    /// Aborts the multipart uploads under the prefix older than `age`: what a killed run left.
    /// Best effort: a store that cannot list them does not stop the backup. Returns how many.
    static func abortStaleUploads(_ destination: BackupDestination, olderThan age: TimeInterval?, now: Date,
                                  warn: (@Sendable (String) -> Void)?) -> Int {
        guard let age, let s3 = destination.store as? S3Store else { return 0 }
        do {
            let stale = try BackupListing.pendingUploads(in: s3, prefix: destination.prefix).filter { upload in
                // An upload without a start time cannot be proven stale unless every age counts.
                guard let initiated = upload.initiated else { return age <= 0 }
                return now.timeIntervalSince(initiated) >= age
            }
            for upload in stale { try s3.abortPendingUpload(upload) }
            return stale.count
        } catch {
            warn?("could not abort the unfinished uploads left under \(destination.prefix) by earlier runs: \(error)")
            return 0
        }
    }

    /// Every backup is written with `.ifAbsent`, so no backup ever replaces another. A key
    /// taken between choosing it and storing it is a manual run's bad luck (another run in the
    /// same second): it runs once more under the next free key. With `keyDate` the key is the
    /// run's identity, so a taken key means the run was already done.
    private static func upload(databasePath: String, destination: BackupDestination, options: Options, started: Date) throws -> Outcome {
        let encrypted = !options.recipients.isEmpty
        if let keyDate = options.keyDate {
            let key = BackupKey.make(prefix: destination.prefix, date: keyDate, compression: options.compression, encrypted: encrypted)
            do {
                return try upload(databasePath: databasePath, destination: destination, key: key, options: options, started: started)
            } catch let taken as KeyTaken {
                throw BackupError.alreadyExists(store: destination.store.displayName, key: key, cause: taken.refusal)
            }
        }
        var attempt = 0
        while true {
            let key: String
            do {
                key = try uniqueKey(destination, date: started, compression: options.compression, encrypted: encrypted)
            } catch {
                throw StageError.named(uploadingStage, error)
            }
            do {
                return try upload(databasePath: databasePath, destination: destination, key: key, options: options, started: started)
            } catch let taken as KeyTaken {
                attempt += 1
                if attempt > 1 { throw StageError.named(uploadingStage, taken.refusal) }
            }
        }
    }

    /// The store refused the exclusive write of the backup: its key was taken meanwhile.
    private struct KeyTaken: Error {
        let refusal: any Error
    }

    private static func isRefusedWrite(_ error: any Error) -> Bool {
        if let stage = error as? StageError { return isRefusedWrite(stage.underlying) }
        return (error as? ObjectStoreError)?.code == .preconditionFailed
    }

    private static func upload(databasePath: String, destination: BackupDestination, key: String, options: Options,
                               started: Date) throws -> Outcome {
        var dumpOptions = DumpOptions()
        dumpOptions.dialect = options.dialect
        dumpOptions.cancellation = options.cancellation
        dumpOptions.progress = options.progress
        dumpOptions.timestamp = started
        dumpOptions.busyTimeoutMilliseconds = options.busyTimeoutMilliseconds
        // Two 5 MiB parts leave no room under 64 MiB for the checks' larger caches.
        if destination.store.uploadBufferBytes > 0 { dumpOptions.sourceCheckCacheKiB = DumpOptions.smallSourceCheckCacheKiB }
        let dumper: Dumper
        do {
            dumper = try options.openSource?(dumpOptions) ?? Dumper(databasePath: databasePath, options: dumpOptions)
        } catch {
            throw StageError.named(readingStage, error)
        }

        let store = destination.store
        var metadata = [
            BackupMetadata.timestamp: BackupMetadata.iso8601(started),
            BackupMetadata.dialect: options.dialect.rawValue,
            BackupMetadata.compression: options.compression.rawValue,
            BackupMetadata.formatVersion: String(DumpFormat.formatVersion),
            BackupMetadata.toolVersion: DumpFormat.toolVersion,
        ]
        BackupEncryption.describe(&metadata, recipients: options.recipients)
        let contentType = BackupKey.contentType(compression: options.compression, encrypted: !options.recipients.isEmpty)
        let sizeHint = (try? FileManager.default.attributesOfItem(atPath: databasePath)[.size] as? Int) ?? nil
        let upload: ChunkSink
        let object: ObjectUpload
        do {
            object = try store.makeUpload(key: key, metadata: metadata, contentType: contentType, sizeHint: sizeHint, condition: .ifAbsent)
            upload = StageSink(uploadingStage, downstream: object, cancellation: options.cancellation)
        } catch {
            throw StageError.named(uploadingStage, error)
        }
        let encryption: AgeEncryptSink?
        do {
            encryption = try BackupEncryption.encrypting(upload, recipients: options.recipients)
        } catch {
            upload.abort(error)
            throw StageError.named(encryptingStage, error)
        }
        let compressor: any CompressingSink
        do {
            compressor = try options.compression.makeSink(downstream: encryption.map { $0 as ChunkSink } ?? upload, level: options.level,
                                                          threads: options.threads, chunkCapacity: dumpOptions.chunkSize)
        } catch {
            upload.abort(error)
            throw StageError.named(compressingStage, error)
        }
        let summary: DumpSummary
        do {
            summary = try dumper.run(into: compressor)
        } catch {
            if isRefusedWrite(error) { throw KeyTaken(refusal: error) }
            // The stages behind the dumper named their own failures; what is left is the dumper's.
            throw StageError.named(error is CompressionError ? compressingStage : readingStage, error)
        }
        let size = encryption?.bytesOut ?? compressor.bytesOut
        metadata[BackupMetadata.size] = String(size)
        metadata[BackupMetadata.tablesCount] = String(summary.tables)
        metadata[BackupMetadata.rowsCount] = String(summary.rows)
        metadata[BackupMetadata.contentCRC32] = String(compressor.contentCRC32)
        metadata[BackupMetadata.sqlBytes] = String(summary.bytes)
        BackupEncryption.describe(&metadata, recipients: options.recipients)
        metadata.merge(summary.sourceNotes) { _, note in note }
        // The size and checksum exist only now; a store that cannot rewrite metadata keeps the
        // first set, and verify falls back to the dump's own trailer.
        if let rewritable = store as? MetadataReplacing {
            do {
                // Pinned to the object just stored: never rewrites another writer's object.
                try rewritable.replaceMetadata(key: key, metadata: metadata, contentType: contentType, ifMatch: object.etag)
            } catch {
                throw StageError.named(uploadingStage, error)
            }
        }
        return Outcome(key: key, size: size, tables: summary.tables, rows: summary.rows, sqlBytes: summary.bytes,
                      seconds: Date().timeIntervalSince(started), contentCRC32: compressor.contentCRC32, metadata: metadata)
    }

    static let readingStage = "reading the database"
    static let compressingStage = "compressing"
    static let uploadingStage = "uploading"
    static let encryptingStage = "encrypting"

    /// The key for a backup started at `date`, suffixed when one from the same second exists.
    static func uniqueKey(_ destination: BackupDestination, date: Date, compression: CompressionMethod = .gzip,
                          encrypted: Bool = false) throws -> String {
        for sequence in 0..<1000 {
            let key = BackupKey.make(prefix: destination.prefix, date: date, sequence: sequence, compression: compression,
                                     encrypted: encrypted)
            if try destination.store.head(key: key) == nil { return key }
        }
        throw BackupError.invalidOption("more than 1000 backups in one second under \(destination.prefix)")
    }
}
