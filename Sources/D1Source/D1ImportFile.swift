#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import Support

/// The SQL file an import uploads: written once, in order, to a private temporary file while
/// its MD5 is computed (D1 wants the MD5 before the upload starts), then read back by the
/// upload. Its name is unlinked as soon as it is created, so a killed restore leaves nothing;
/// the space goes back when the descriptor closes (`remove()`, or when dropped).
package final class D1ImportFile {
    /// Where it was created (for messages: the name is already gone).
    package let path: String
    package private(set) var size = 0
    /// Lower-case hex MD5 of the whole file, once `close()` returned.
    package private(set) var md5 = ""
    private var descriptor: Int32
    private var hasher = Insecure.MD5()
    private var buffer: [UInt8] = []
    private static let bufferBytes = 1 << 20

    /// Creates the file (mode 0600) in `directory`, else $TMPDIR or /tmp.
    package init(directory: String? = nil) throws {
        let folder = directory ?? ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(folder)/backstream-d1-XXXXXX.sql".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemps($0, 4) } ?? -1 }
        guard fd >= 0 else {
            throw D1RestoreError(.convert, "cannot create a temporary file in \(folder): \(ErrnoError(errno))")
        }
        descriptor = fd
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        unlink(path)
        buffer.reserveCapacity(Self.bufferBytes)
    }

    deinit { remove() }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        size += bytes.count
        if buffer.count + bytes.count > Self.bufferBytes { try flush() }
        if bytes.count >= Self.bufferBytes {
            try writeOut(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Flushes, seals the MD5 and rewinds the file for the upload.
    package func close() throws {
        try flush()
        md5 = Hex.encode(hasher.finalize())
        try rewind()
    }

    /// Back to the start, for an upload (or its retry).
    package func rewind() throws {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw D1RestoreError(.upload, "cannot rewind the temporary file \(path): \(ErrnoError(errno))")
        }
    }

    /// The open file, positioned at its start after `close()`.
    package var fileDescriptor: Int32 { descriptor }

    package func remove() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }

    private func flush() throws {
        try buffer.withUnsafeBytes { try writeOut($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer) throws {
        do {
            try Syscall.writeAll(descriptor, bytes)
        } catch {
            throw D1RestoreError(.convert, "cannot write the temporary file \(path): \(error)")
        }
    }
}
