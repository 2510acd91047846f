import ChunkIO
import Compression
import Foundation
import ObjectStore
import SQLiteDump

/// `backstream backup`: snapshot → SQL → parallel gzip → streaming upload, in one pass with no
/// temporary file, then retention. Any failure aborts the upload and leaves no object.
public struct BackupJob {
    public enum Trigger: String, Sendable { case manual, scheduled }

    public struct Options: Sendable {
        public var dialect: Dialect = .sqlite
        public var level = 6
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public var retention = RetentionPolicy()
        public var prune = true
        public var activityLog = true
        public var trigger: Trigger = .manual
        public var userID: String?
        public var cancellation: Cancellation?
        public var progress: (@Sendable (DumpProgress) -> Void)?
        public var busyTimeoutMilliseconds: Int32 = 5000
        /// Told about problems that do not fail the backup (an activity log that cannot be written).
        public var warn: (@Sendable (String) -> Void)?
        public init() {}
    }

    public struct Result: Sendable {
        public var key: String
        public var size: Int
        public var tables: Int
        public var rows: Int64
        public var sqlBytes: Int64
        public var seconds: Double
        public var contentCRC32: UInt32
        public var metadata: [String: String]
        public var deletedCount: Int?

        public var json: JSONValue {
            var fields: [(String, JSONValue)] = [
                ("key", .string(key)), ("size", .int(Int64(size))), ("tables", .int(Int64(tables))),
                ("rows", .int(rows)), ("duration_ms", .int(Int64(seconds * 1000))),
                ("metadata", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ]
            if let deletedCount { fields.append(("deleted_count", .int(Int64(deletedCount)))) }
            return .object(fields)
        }
    }

    public static func run(databasePath: String, destination: BackupDestination, options: Options) throws -> Result {
        let lock = try BackupLock(database: databasePath)
        defer { withExtendedLifetime(lock) {} }
        let started = Date()
        do {
            var result = try upload(databasePath: databasePath, destination: destination, options: options, started: started)
            if options.activityLog {
                let action: ActivityLog.Action = options.trigger == .scheduled ? .scheduledCompleted : .backupCreated
                ActivityLog.recordOrWarn(databasePath: databasePath, action: action, details: result.json,
                                         userID: options.userID, warn: options.warn)
            }
            if options.prune {
                result.deletedCount = try PruneJob.run(destination: destination, policy: options.retention, dryRun: false,
                                                       databasePath: options.activityLog ? databasePath : nil,
                                                       userID: options.userID, warn: options.warn).deleted.count
            }
            return result
        } catch {
            if options.activityLog {
                let action: ActivityLog.Action = options.trigger == .scheduled ? .scheduledFailed : .backupFailed
                let details = JSONValue.object([("error", .string("\(error)")), ("started", .string(BackupMetadata.iso8601(started)))])
                ActivityLog.recordOrWarn(databasePath: databasePath, action: action, details: details,
                                         userID: options.userID, warn: options.warn)
            }
            throw error
        }
    }

    private static func upload(databasePath: String, destination: BackupDestination, options: Options, started: Date) throws -> Result {
        var dumpOptions = DumpOptions()
        dumpOptions.dialect = options.dialect
        dumpOptions.cancellation = options.cancellation
        dumpOptions.progress = options.progress
        dumpOptions.timestamp = started
        dumpOptions.busyTimeoutMilliseconds = options.busyTimeoutMilliseconds
        let dumper = try Dumper(databasePath: databasePath, options: dumpOptions)

        let store = destination.store
        let key = try uniqueKey(destination, date: started)
        var metadata = [
            BackupMetadata.timestamp: BackupMetadata.iso8601(started),
            BackupMetadata.dialect: options.dialect.rawValue,
            BackupMetadata.compression: "gzip",
            BackupMetadata.formatVersion: String(DumpFormat.formatVersion),
            BackupMetadata.toolVersion: DumpFormat.toolVersion,
        ]
        let sizeHint = (try? FileManager.default.attributesOfItem(atPath: databasePath)[.size] as? Int) ?? nil
        let upload = try store.makeUpload(key: key, metadata: metadata, contentType: "application/gzip", sizeHint: sizeHint)
        let gzip: GzipCompressorSink
        do {
            gzip = try GzipCompressorSink(downstream: upload, level: options.level, threads: options.threads,
                                          chunkCapacity: dumpOptions.chunkSize)
        } catch {
            upload.abort(error)
            throw error
        }
        let summary = try dumper.run(into: gzip)
        metadata[BackupMetadata.size] = String(gzip.bytesOut)
        metadata[BackupMetadata.tablesCount] = String(summary.tables)
        metadata[BackupMetadata.rowsCount] = String(summary.rows)
        metadata[BackupMetadata.contentCRC32] = String(gzip.contentCRC32)
        metadata[BackupMetadata.sqlBytes] = String(summary.bytes)
        // The size and checksum exist only now; a store that cannot rewrite metadata keeps the
        // first set, and verify falls back to the dump's own trailer.
        if let rewritable = store as? MetadataReplacing {
            try rewritable.replaceMetadata(key: key, metadata: metadata, contentType: "application/gzip")
        }
        return Result(key: key, size: gzip.bytesOut, tables: summary.tables, rows: summary.rows, sqlBytes: summary.bytes,
                      seconds: Date().timeIntervalSince(started), contentCRC32: gzip.contentCRC32, metadata: metadata)
    }

    /// The key for a backup started at `date`, suffixed when one from the same second exists.
    static func uniqueKey(_ destination: BackupDestination, date: Date) throws -> String {
        for sequence in 0..<1000 {
            let key = BackupKey.make(prefix: destination.prefix, date: date, sequence: sequence)
            if try destination.store.head(key: key) == nil { return key }
        }
        throw BackupError.invalidOption("more than 1000 backups in one second under \(destination.prefix)")
    }
}
