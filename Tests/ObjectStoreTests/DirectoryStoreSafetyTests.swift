import ChunkIO
import Foundation
import Testing
import TestSupport
@testable import ObjectStore
#if canImport(Glibc)
import Glibc
#endif

/// The folder store on a real temporary folder: links out of it, bad keys, failing renames,
/// leftovers of killed runs.
struct DirectoryStoreSafetyTests {
    /// A store folder with a link to a folder outside and a link to a file outside.
    static func linkedStore() throws -> (dir: TemporaryDirectory, outside: TemporaryDirectory, store: DirectoryStore) {
        let dir = try TemporaryDirectory("dirsafe")
        let outside = try TemporaryDirectory("outside")
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside.file("secret")))
        try FileManager.default.createSymbolicLink(atPath: dir.file("linked"), withDestinationPath: outside.path)
        try FileManager.default.createSymbolicLink(atPath: dir.file("obj"), withDestinationPath: outside.file("secret"))
        return (dir, outside, DirectoryStore(root: dir.path))
    }

    static func expectRefused(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected a refusal", sourceLocation: sourceLocation)
        } catch let error as ObjectStoreError {
            #expect(error.code == .symlinkRefused, "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains("symbolic link"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func linksOutOfTheFolderAreRefusedForEveryOperation() throws {
        let (dir, outside, store) = try Self.linkedStore()
        defer { dir.remove(); outside.remove() }
        let before = try FileManager.default.contentsOfDirectory(atPath: outside.path)

        Self.expectRefused { try store.put(key: "linked/new", bytes: [1], metadata: [:], contentType: "a/b") }
        Self.expectRefused { try store.put(key: "obj", bytes: [1], metadata: [:], contentType: "a/b") }
        Self.expectRefused { _ = try store.makeUpload(key: "linked/deeper/x", metadata: [:], contentType: "a/b", sizeHint: nil) }
        let sink = CollectingSink()
        Self.expectRefused { try store.get(key: "obj", into: sink) }
        #expect(sink.aborted && sink.bytes.isEmpty)
        Self.expectRefused { try store.get(key: "linked/secret", into: CollectingSink()) }
        Self.expectRefused { _ = try store.head(key: "obj") }
        Self.expectRefused { _ = try store.head(key: "linked/secret") }
        Self.expectRefused { try store.delete(keys: ["obj"]) }
        Self.expectRefused { try store.delete(keys: ["linked/secret"]) }
        Self.expectRefused { _ = try store.list(prefix: "") }
        Self.expectRefused { _ = try store.list(prefix: "linked/") }
        Self.expectRefused { try store.replaceMetadata(key: "obj", metadata: [:], contentType: "a/b") }

        // Nothing outside changed, and the links are still there.
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path) == before)
        #expect(try String(contentsOfFile: outside.file("secret"), encoding: .utf8) == "secret")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.file("obj")) == outside.file("secret"))
        // Keys elsewhere in the folder still work.
        try store.put(key: "safe/a", bytes: [7], metadata: ["k": "v"], contentType: "a/b")
        #expect(try store.list(prefix: "safe/").map(\.key) == ["safe/a"])
        try store.delete(keys: ["safe/a"])
    }

    @Test func invalidKeysAreTypedErrorsNotCrashes() throws {
        let dir = try TemporaryDirectory("dirsafe")
        defer { dir.remove() }
        let store = DirectoryStore(root: dir.path)
        let keys = ["../x", "/abs", "a/\u{0}b", "line\nbreak", String(repeating: "k", count: 2000), "a/./b",
                    ".x.tmp-1", String(repeating: "n", count: 300), "a/.."]
        for key in keys {
            for operation in 0..<5 {
                do {
                    switch operation {
                    case 0: try store.put(key: key, bytes: [1], metadata: [:], contentType: "a/b")
                    case 1: try store.get(key: key, into: CollectingSink())
                    case 2: _ = try store.head(key: key)
                    case 3: try store.delete(keys: [key])
                    default: _ = try store.makeUpload(key: key, metadata: [:], contentType: "a/b", sizeHint: nil)
                    }
                    Issue.record("key \(key.debugDescription.prefix(40)) was accepted by operation \(operation)")
                } catch let error as ObjectStoreError {
                    #expect(error.code == .invalidArgument && error.isInvalidKey, "\(error)")
                    #expect(error.description.count < 600)
                }
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func aFailedRenameEndsFinishWithTheStageAndLeavesNothing() throws {
        let dir = try TemporaryDirectory("dirsafe")
        defer { dir.remove() }
        let store = DirectoryStore(root: dir.path)
        // A non-empty folder where the object should go: the rename must fail.
        try FileManager.default.createDirectory(atPath: dir.file("db/x.sql.gz"), withIntermediateDirectories: true)
        try Data([1]).write(to: URL(fileURLWithPath: dir.file("db/x.sql.gz/inside")))
        let started = Date()
        let upload = try store.makeUpload(key: "db/x.sql.gz", metadata: ["a": "1"], contentType: "application/gzip", sizeHint: nil)
        try stream(testBytes(2_000_000), into: upload, finish: false)
        let error = try #require(throws: ObjectStoreError.self) { try upload.finish() }
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(error.stage == .renameFile, "\(error)")
        #expect(error.description.hasPrefix("moving db/x.sql.gz into place failed"), "\(error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("db")) == ["x.sql.gz"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("db/x.sql.gz")) == ["inside"])
        // The upload is over: finishing or aborting again neither hangs nor writes.
        #expect(throws: ObjectStoreError.self) { try upload.finish() }
        upload.abort(ProxyError("again"))
        #expect(try store.listPendingUploads(prefix: "").isEmpty)
    }

    @Test func finishedObjectsAreWholeWithNoTemporaryLeft() throws {
        let dir = try TemporaryDirectory("dirsafe")
        defer { dir.remove() }
        let store = DirectoryStore(root: dir.path)
        let upload = try store.makeUpload(key: "db/y", metadata: ["first": "1"], contentType: "a/b", sizeHint: nil)
        try stream(testBytes(100_000), into: upload, finish: false)
        // While it runs, the only file is one exclusive temporary beside the target.
        let during = try FileManager.default.contentsOfDirectory(atPath: dir.file("db"))
        #expect(during.count == 1 && during[0].hasPrefix(".y.tmp-"), "\(during)")
        let pending = try store.listPendingUploads(prefix: "db/")
        #expect(pending.map(\.key) == ["db/y"])
        let final = try #require(upload as? FinalMetadataUpload)
        try final.finish(metadata: ["size": "100000"], contentType: "application/gzip")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("db")).sorted() == ["y", "y.meta.json"])
        #expect(try store.head(key: "db/y")?.metadata == ["size": "100000"])
        let sink = CollectingSink()
        try store.get(key: "db/y", into: sink)
        #expect(sink.bytes == testBytes(100_000))
    }

    @Test func staleTemporariesAreRemovedByAge() throws {
        let dir = try TemporaryDirectory("dirsafe")
        defer { dir.remove() }
        let store = DirectoryStore(root: dir.path)
        let killed = try store.makeUpload(key: "db/killed", metadata: [:], contentType: "a/b", sizeHint: nil)
        try stream(testBytes(1000), into: killed, finish: false)
        let other = try store.makeUpload(key: "elsewhere/run", metadata: [:], contentType: "a/b", sizeHint: nil)
        #expect(try store.abortStaleUploads(prefix: "db/", olderThan: 3600).isEmpty)
        let removed = try store.abortStaleUploads(prefix: "db/", olderThan: 3600, now: Date().addingTimeInterval(7200))
        #expect(removed.map(\.key) == ["db/killed"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("db")).isEmpty)
        // Outside the prefix nothing was touched.
        #expect(try store.listPendingUploads(prefix: "").map(\.key) == ["elsewhere/run"])
        other.abort(ProxyError("done"))
        #expect(throws: ObjectStoreError.self) { try killed.finish() }
    }

    @Test func orphanMetadataIsRemovedAndDeleteTakesMetadataAlong() throws {
        let dir = try TemporaryDirectory("dirsafe")
        defer { dir.remove() }
        let store = DirectoryStore(root: dir.path)
        try store.put(key: "b/kept", bytes: [1], metadata: ["k": "1"], contentType: "a/b")
        try store.put(key: "b/gone", bytes: [2], metadata: ["k": "2"], contentType: "a/b")
        #expect(unlink(dir.file("b/gone")) == 0)
        // A fresh orphan may belong to an upload finishing right now: kept by default.
        #expect(try store.removeOrphanMetadata(prefix: "b/").isEmpty)
        #expect(try store.removeOrphanMetadata(prefix: "b/", olderThan: 0, now: Date().addingTimeInterval(1)) == ["b/gone"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("b")).sorted() == ["kept", "kept.meta.json"])
        try store.delete(keys: ["b/kept"])
        #expect(!FileManager.default.fileExists(atPath: dir.file("b")))
    }

    @Test func aFIFOIsNotReadAsAnObject() throws {
        let dir = try TemporaryDirectory("dirsafe")
        defer { dir.remove() }
        #expect(mkfifo(dir.file("pipe"), 0o644) == 0)
        let store = DirectoryStore(root: dir.path)
        let error = try #require(throws: ObjectStoreError.self) { try store.get(key: "pipe", into: CollectingSink()) }
        #expect(error.code == .notFound)
        #expect(try store.head(key: "pipe") == nil)
        #expect(try store.list(prefix: "").isEmpty)
    }
}

struct HTTPDateTests {
    @Test func wellFormedDatesParse() {
        #expect(HTTPDate.parseRFC1123("Wed, 25 Nov 2026 02:49:06 GMT") == Date(timeIntervalSince1970: 1_795_574_946))
        #expect(HTTPDate.parseISO8601("2026-11-25T02:49:06.000Z") == Date(timeIntervalSince1970: 1_795_574_946))
        #expect(HTTPDate.parseISO8601("1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
        #expect(HTTPDate.parseISO8601("2024-02-29T12:00:00Z") != nil)
    }

    @Test(arguments: [
        "Wed, 25 Nov 99999 02:49:06 GMT", "Wed, 25 Nov 99999999999999999999 02:49:06 GMT",
        "Wed, 25 Nov 9223372036854775807 02:49:06 GMT", "Wed, 99 Nov 2026 02:49:06 GMT", "garbage", "",
        "Wed, 25 Foo 2026 02:49:06 GMT", "Wed, 25 Nov 2026 99:49:06 GMT", "Wed, 25 Nov -2026 02:49:06 GMT",
        "99999-11-25T02:49:06.000Z", "2026-13-25T02:49:06Z", "2023-02-29T00:00:00Z", "2026-11-25T02:49:06",
        "9999999999999999999999-01-01T00:00:00Z", "2026-11-25T02:49:06.Z", String(repeating: "9", count: 10_000),
    ])
    func malformedOrFarFutureDatesAreNil(text: String) {
        #expect(HTTPDate.parseRFC1123(text) == nil)
        #expect(HTTPDate.parseISO8601(text) == nil)
    }

    @Test func signingAnAbsurdDateDoesNotTrap() {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 1e300)) == "99991231T235959Z")
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: -.infinity)).count == 16)
    }
}
