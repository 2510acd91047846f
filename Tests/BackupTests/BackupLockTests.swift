import Backup
import Foundation
import Testing
import TestSupport

@Suite("backup lock file")
struct BackupLockTests {
    @Test("a symlink at the lock path is refused and its target is untouched")
    func symlinkRefused() throws {
        let dir = try TemporaryDirectory("lock-link")
        defer { dir.remove() }
        let victim = dir.file("victim.txt")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: victim))
        let database = dir.file("app.db")
        try FileManager.default.createSymbolicLink(atPath: database + ".backstream-lock", withDestinationPath: victim)
        #expect(throws: BackupError.self) { _ = try BackupLock(database: database) }
        do {
            _ = try BackupLock(database: database)
        } catch {
            #expect("\(error)".contains("symbolic link"), "\(error)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: victim)) == Data("precious".utf8))
    }

    @Test("a regular lock file is taken and released")
    func regularLock() throws {
        let dir = try TemporaryDirectory("lock-ok")
        defer { dir.remove() }
        let database = dir.file("app.db")
        do {
            let lock = try BackupLock(database: database)
            #expect(lock.path.hasSuffix(".backstream-lock"))
            #expect { _ = try BackupLock(database: database) } throws: { ($0 as? BackupError)?.code == .busy }
        }
        _ = try BackupLock(database: database)
    }
}
