#if canImport(Glibc)
import Glibc
#endif
import Backup
import ChunkIO
import Foundation
import ObjectStore
import Testing
import TestSupport

/// Input for `UploadJob`: a file, or a pipe fed by another thread in uneven pieces as a shell
/// pipeline (`… | backstream upload NAME -`) feeds standard input.
private enum UploadInput {
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func withFile<T>(_ bytes: [UInt8], in dir: TemporaryDirectory, _ body: (Int32) throws -> T) throws -> T {
        let path = dir.file("input.bin")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        return try body(fd)
    }

    static func withPipe<T>(_ bytes: [UInt8], _ body: (Int32) throws -> T) throws -> T {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let writer = Thread {
            var offset = 0, piece = 1
            while offset < bytes.count {
                let n = min(piece, bytes.count - offset)
                let written = bytes.withUnsafeBytes { write(writeEnd, $0.baseAddress.map { $0 + offset }, n) }
                if written <= 0 { break }
                offset += written
                piece = piece * 7 % 300_007 + 1  // uneven sizes, from a byte to ~300 KB
            }
            close(writeEnd)
        }
        writer.start()
        defer { close(readEnd) }
        return try body(readEnd)
    }
}

@Suite("upload job, in process")
struct UploadJobTests {
    private static func readBack(_ store: any ObjectStore, _ key: String) throws -> [UInt8] {
        let sink = CollectingSink()
        try store.get(key: key, into: sink)
        #expect(sink.finished)
        return sink.bytes
    }

    @Test("a folder store gets a file's and a pipe's bytes exactly, and the outcome counts them")
    func directoryStore() throws {
        let fixture = try JobFixture("job-upload-dir")
        defer { fixture.remove() }
        let bytes = UploadInput.bytes(2_621_447)  // 2.5 MiB and a few bytes: chunks of 1 MiB and a short last one
        let fromFile = try UploadInput.withFile(bytes, in: fixture.dir) { fd in
            try UploadJob.run(fd: fd, name: "input.bin", store: fixture.store, key: "uploads/file.bin",
                              contentType: "application/octet-stream", sizeHint: bytes.count)
        }
        let fromPipe = try UploadInput.withPipe(bytes) { fd in
            try UploadJob.run(fd: fd, name: "standard input", store: fixture.store, key: "uploads/pipe.bin",
                              contentType: "application/octet-stream", sizeHint: nil)
        }
        #expect(fromFile.bytes == bytes.count && fromPipe.bytes == bytes.count)
        #expect(fromFile.key == "uploads/file.bin")
        #expect(try Self.readBack(fixture.store, "uploads/file.bin") == bytes)
        #expect(try Self.readBack(fixture.store, "uploads/pipe.bin") == bytes)
        // The folder holds the bytes as a plain file, the same the real cmp reads.
        let cmp = try ProcessRunner.run(["cmp", fixture.dir.file("input.bin"), fixture.store.root + "/uploads/pipe.bin"])
        #expect(cmp.status == 0, "\(cmp.stdoutText)")

        let empty = try UploadInput.withPipe([]) { fd in
            try UploadJob.run(fd: fd, name: "standard input", store: fixture.store, key: "uploads/empty.bin",
                              contentType: "application/octet-stream", sizeHint: nil)
        }
        #expect(empty.bytes == 0)
        #expect(try fixture.store.head(key: "uploads/empty.bin")?.size == 0)
    }

    @Test("input that cannot be read is a read error, and no object or temporary is left")
    func unreadableInput() throws {
        let fixture = try JobFixture("job-upload-unreadable")
        defer { fixture.remove() }
        let folder = open(fixture.dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(folder >= 0)
        defer { close(folder) }
        expectError({ _ = try UploadJob.run(fd: folder, name: "a folder", store: fixture.store, key: "uploads/folder.bin",
                                            contentType: "application/octet-stream", sizeHint: nil) },
                    where: { ($0 as? BackupError)?.code == .cannotRead })
        #expect(try fixture.store.head(key: "uploads/folder.bin") == nil)
        let left = (try? FileManager.default.subpathsOfDirectory(atPath: fixture.store.root)) ?? []
        #expect(left.filter { !$0.hasSuffix("uploads") }.isEmpty, "\(left)")
    }

    @Test("moto: a file larger than one part and a piped stream arrive byte for byte, as the AWS CLI reads them")
    func s3Store() throws {
        let fixture = try JobFixture("job-upload-s3")
        defer { fixture.remove() }
        let moto = try motoDestination("job-upload")
        let bytes = UploadInput.bytes(9 << 20 | 12_345)  // past one 5 MiB part: a real multipart upload
        let fromFile = try UploadInput.withFile(bytes, in: fixture.dir) { fd in
            try UploadJob.run(fd: fd, name: "input.bin", store: moto.destination.store, key: "uploads/file.bin",
                              contentType: "application/octet-stream", sizeHint: bytes.count)
        }
        let small = Array(bytes.prefix(700_001))
        let fromPipe = try UploadInput.withPipe(small) { fd in
            try UploadJob.run(fd: fd, name: "standard input", store: moto.destination.store, key: "uploads/pipe.bin",
                              contentType: "application/octet-stream", sizeHint: nil)
        }
        #expect(fromFile.bytes == bytes.count && fromPipe.bytes == small.count)
        for (key, expected) in [("uploads/file.bin", bytes), ("uploads/pipe.bin", small)] {
            let body = fixture.dir.file(key.replacingOccurrences(of: "/", with: "-"))
            let get = try moto.server.aws(["s3api", "get-object", "--bucket", moto.bucket, "--key", key, body])
            #expect(get.status == 0, "\(get.stderrText)")
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: body))) == expected, "\(key)")
        }
        #expect(BackupListing.pendingUploads(in: moto.destination.store, prefix: "uploads/").isEmpty)
    }
}
