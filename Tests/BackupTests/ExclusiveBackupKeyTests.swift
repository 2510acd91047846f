import Backup
import Foundation
import ObjectStore
import Testing
import TestSupport

/// Backups are written with If-None-Match: *: with a fixed `keyDate` (a fleet's scheduled
/// time) a second run of the same time is refused and the first backup stays as it was.
@Suite("exclusive backup keys")
struct ExclusiveBackupKeyTests {
    static let scheduled = Date(timeIntervalSince1970: 1_796_000_000)

    static func isAlreadyExists(_ error: any Error) -> Bool {
        (rootCause(error) as? BackupError)?.code == .alreadyExists
    }

    /// Runs two backups of the same scheduled time into `destination` and checks the second is refused.
    static func secondRunIsRefused(_ fixture: JobFixture, destination: BackupDestination) throws {
        var options = JobFixture.options()
        options.activityLog = false
        options.prune = false
        options.keyDate = scheduled
        let first = try BackupJob.run(databasePath: fixture.database, destination: destination, options: options)
        #expect(first.key == BackupKey.make(prefix: destination.prefix, date: scheduled))
        let stored = try destination.store.getBytes(key: first.key, limit: 64 << 20)
        let info = try #require(try destination.store.head(key: first.key))
        // A changed source makes a different dump: the refusal is not a same-bytes accident.
        try TestDatabase(fixture.database).execute("CREATE TABLE added(v); INSERT INTO added VALUES (1);")
        do {
            _ = try BackupJob.run(databasePath: fixture.database, destination: destination, options: options)
            Issue.record("the second backup of one scheduled time was stored")
        } catch {
            #expect(isAlreadyExists(error), "\(error)")
            #expect("\(error)".contains("already written"))
            #expect("\(error)".contains("nothing was overwritten"))
        }
        #expect(try destination.store.getBytes(key: first.key, limit: 64 << 20) == stored)
        let after = try #require(try destination.store.head(key: first.key))
        #expect(after.etag == info.etag)
        #expect(after.metadata == info.metadata)
        // The whole store (moto refuses a correctly signed listing of a prefix with a `/`).
        #expect(try destination.store.list(prefix: "").map(\.key) == [first.key])
    }

    @Test("folder store: a second backup with the same keyDate fails with alreadyExists")
    func folder() throws {
        let fixture = try JobFixture("exclusive-folder")
        defer { fixture.remove() }
        try Self.secondRunIsRefused(fixture, destination: fixture.destination)
    }

    @Test("moto: a second backup with the same keyDate fails with alreadyExists")
    func moto() throws {
        let fixture = try JobFixture("exclusive-moto")
        defer { fixture.remove() }
        try Self.secondRunIsRefused(fixture, destination: try motoDestination("exclusive").destination)
    }

    @Test("without keyDate, a key taken by another writer between choice and store moves to the next sequence")
    func manualRunTakesTheNextKey() throws {
        let fixture = try JobFixture("exclusive-manual")
        defer { fixture.remove() }
        // A store that plants an object at the first key a backup asks to write, as a
        // concurrent run of the same second would, after the key was chosen.
        let racing = PlantingStore(base: fixture.store)
        let destination = BackupDestination(store: racing, prefix: "backups/")
        var options = JobFixture.options()
        options.activityLog = false
        options.prune = false
        let result = try BackupJob.run(databasePath: fixture.database, destination: destination, options: options)
        let planted = try #require(racing.planted)
        #expect(result.key != planted)
        #expect(try #require(BackupKey(key: result.key, prefix: "backups/")).sequence == 1)
        #expect(try fixture.store.getBytes(key: planted, limit: 100) == Array("other".utf8))
    }
}

/// A folder store that, on the first exclusive upload, first writes "other" at that key.
final class PlantingStore: WrappedDirectoryStore, @unchecked Sendable {
    let base: DirectoryStore
    private let lock = NSLock()
    private var plantedKey: String?
    var planted: String? { lock.withLock { plantedKey } }
    init(base: DirectoryStore) { self.base = base }
    func makeUpload(key: String, metadata: [String: String], contentType: String, sizeHint: Int?,
                    condition: WriteCondition) throws -> ObjectUpload {
        let first = lock.withLock { () -> Bool in
            defer { if plantedKey == nil { plantedKey = key } }
            return plantedKey == nil
        }
        if first { try base.put(key: key, bytes: Array("other".utf8), metadata: [:], contentType: "application/gzip") }
        return try base.makeUpload(key: key, metadata: metadata, contentType: contentType, sizeHint: sizeHint, condition: condition)
    }
}
