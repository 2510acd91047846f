#if canImport(Glibc)
import Glibc
#endif
import ChunkIO
import Encryption
import Foundation
import Support

/// `backstream verify`: a restore into a scratch database in a private folder (mode 0700) that
/// is always deleted. Only Backstream's own scripts verify: a script without the header fails.
package enum VerifyJob {
    package static func run(_ entry: BackupEntry, from destination: BackupDestination, cancellation: Cancellation? = nil,
                           progress: ProgressSink.Report? = nil, identities: [AgeIdentity] = []) throws -> RestoreReport {
        var template = Array((NSTemporaryDirectory() + "/backstream-verify-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let made = mkdtemp(base) else { return nil }
            return String(cString: made)
        }
        guard let folder = created else {
            throw OutputError(code: .cannotCreate, path: NSTemporaryDirectory(), reason: String(cString: strerror(errno)))
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let scratch = folder + "/verify.db"
        let fd = open(scratch, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OutputError(code: .cannotCreate, path: scratch, reason: String(cString: strerror(errno))) }
        close(fd)
        return try RestoreJob.load(entry, from: destination, into: scratch, cancellation: cancellation, progress: progress, identities: identities)
    }
}
