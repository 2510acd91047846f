#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Backup
import ChunkIO
import Foundation
import ObjectStore
import Support

struct UploadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Stream a file or standard input to the store as one object.",
        discussion: """
            Uses the same multipart uploader as backups: memory stays at parts in flight × part \
            size (2 × 5 MiB unless BACKSTREAM_UPLOAD_PARTS or BACKSTREAM_PART_SIZE_MIB say \
            otherwise) however long the stream is, and a failure or Ctrl-C leaves no object.

            Examples:
              backstream dump app.db --gzip | backstream upload manual/app.sql.gz --store s3://bucket/
              backstream upload archive/app.sql.gz app.sql.gz --store r2://bucket/
            """)

    @Argument(help: "The object key (the store URL's prefix is put in front).")
    var key: String

    @Argument(help: "The file to upload; standard input when omitted or '-'.")
    var file: String?

    @Option(help: "Where to upload: s3://bucket/prefix/, r2://bucket/prefix/, a folder, or file:///path.")
    var store: String

    @Option(help: "Content-Type of the object.")
    var contentType = "application/octet-stream"

    func run() throws {
        let cancellation = Cancellation()
        let signals = Terminal.installSignalHandlers(cancellation)
        defer { signals.forEach { $0.cancel() } }
        let result = try reportingErrors(cancellation: cancellation) {
            let (objectStore, prefix) = try StoreLocation.parse(store, environment: ProcessInfo.processInfo.environment)
            var fd: Int32 = 0
            var name = "standard input"
            var sizeHint: Int?
            if let file, file != "-" {
                fd = open(file, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    throw BackupError.cannotRead(file, reason: String(cString: strerror(errno)))
                }
                name = file
                sizeHint = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? nil
            }
            defer {
                if fd > 0 { close(fd) }
                Terminal.clearProgress()
            }
            return try UploadJob.run(fd: fd, name: name, store: objectStore, key: prefix + key, contentType: contentType,
                                     sizeHint: sizeHint, cancellation: cancellation,
                                     progress: Terminal.transferProgress("uploading:", total: sizeHint))
        }
        let rate = result.seconds > 0 ? Double(result.bytes) / result.seconds : 0
        printLine("uploaded \(Terminal.bytes(Int64(result.bytes))) to \(result.key) in \(String(format: "%.2f", result.seconds)) s (\(Terminal.bytes(Int64(rate)))/s)")
    }
}
