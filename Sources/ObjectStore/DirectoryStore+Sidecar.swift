import ChunkIO
import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

// Metadata sidecars and the names of temporary files.
extension DirectoryStore {
    struct Sidecar: Codable {
        var contentType: String
        var metadata: [String: String]
    }

    /// Writes `key`'s metadata file atomically in `folder`.
    func writeSidecar(in folder: Folder, name: String, key: String, metadata: [String: String], contentType: String) throws {
        let json = try JSONEncoder().encode(Sidecar(contentType: contentType, metadata: metadata))
        do {
            let file = try AtomicFile(in: folder, name: name + Self.sidecarSuffix, store: displayName, key: key)
            try json.withUnsafeBytes { try file.write($0) }
            try file.commit()
        } catch let error as ObjectStoreError {
            var error = error
            error.stage = .writeMetadata
            throw error
        }
    }

    func readSidecar(_ folder: Folder, _ name: String, key: String) throws -> Sidecar? {
        let fd = openat(folder.fd, name + Self.sidecarSuffix, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            if errno == ELOOP || folder.kind(of: name + Self.sidecarSuffix).0 == .symlink {
                throw linkRefused(key, "its metadata file is a symbolic link")
            }
            return nil
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= Self.maximumSidecarBytes else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            // A sidecar that cannot be read counts as absent, as one that cannot be decoded.
            let n = bytes.withUnsafeMutableBytes { buffer in
                buffer.baseAddress.map { base in
                    (try? Syscall.retrying { read(fd, base + filled, buffer.count - filled) }) ?? -1
                } ?? 0
            }
            if n <= 0 { break }
            filled += n
        }
        return try? JSONDecoder().decode(Sidecar.self, from: Data(bytes[0..<filled]))
    }

    /// Temporaries are `.<name>.tmp-<pid>-<random>`.
    static func isTemporary(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(temporaryMarker) }

    /// The key of the object a temporary file was being written for.
    static func keyOfTemporary(folderKey: String, name: String) -> String? {
        guard isTemporary(name), let marker = name.range(of: temporaryMarker, options: .backwards) else { return nil }
        var target = String(name[name.index(after: name.startIndex)..<marker.lowerBound])
        if target.hasSuffix(sidecarSuffix) { target = String(target.dropLast(sidecarSuffix.count)) }
        return folderKey + target
    }

    static func modified(_ info: stat) -> Date {
        Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
    }
}
