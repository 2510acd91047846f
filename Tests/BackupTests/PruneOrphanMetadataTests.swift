import Foundation
import ObjectStore
import Testing
import TestSupport
@testable import Backup

/// Prune on a folder store also removes metadata files whose backup is gone.
struct PruneOrphanMetadataTests {
    @Test func pruneRemovesOrphanMetadataAndKeepsLiveBackups() throws {
        let dir = try TemporaryDirectory("prune-orphans")
        defer { dir.remove() }
        let store = DirectoryStore(root: dir.path)
        let now = Date()
        let kept = BackupKey.make(prefix: "backups/", date: now)
        let lost = BackupKey.make(prefix: "backups/", date: now.addingTimeInterval(-60))
        try store.put(key: kept, bytes: [1], metadata: ["size": "1"], contentType: "application/gzip")
        try store.put(key: lost, bytes: [2], metadata: ["size": "1"], contentType: "application/gzip")
        // The object of `lost` vanished (a crash mid-write, a hand delete); its metadata stayed,
        // written long enough ago not to belong to an upload finishing now.
        #expect(unlink(dir.file(lost)) == 0)
        let old = Date().addingTimeInterval(-3600)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: dir.file(lost + ".meta.json"))

        let result = try PruneJob.run(destination: BackupDestination(store: store, prefix: "backups/"),
                                      policy: RetentionPolicy(retentionDays: 30, keepLast: 3), dryRun: false, now: now)
        #expect(result.deleted.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.file(lost + ".meta.json")))
        #expect(try store.head(key: kept)?.metadata == ["size": "1"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("backups")).count == 2)
    }
}
