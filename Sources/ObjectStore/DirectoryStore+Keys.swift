import ChunkIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Key checks and the errors that name a key.
extension DirectoryStore {
    /// The key's last name, after checking the whole key: non-empty '/'-separated names, none
    /// `.`, `..` or over 200 bytes, no control characters, at most 1024 bytes, not one of the
    /// store's own metadata or temporary names.
    func objectName(_ key: String) throws -> String {
        func invalid(_ cause: String) -> ObjectStoreError { .invalidKey(store: displayName, key: key, cause: cause) }
        if key.isEmpty { throw invalid("the key is empty") }
        if key.utf8.count > Self.maximumKeyBytes {
            throw invalid("the key is \(key.utf8.count) bytes long; keys are at most \(Self.maximumKeyBytes) bytes")
        }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw invalid("the key contains a control character (NUL, newline, …); use printable characters")
        }
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        if segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) || key.hasSuffix(Self.sidecarSuffix) {
            throw invalid("a folder store takes keys of non-empty '/'-separated names other than '.' and '..', not ending in \(Self.sidecarSuffix)")
        }
        if segments.contains(where: { $0.utf8.count > Self.maximumNameBytes }) {
            throw invalid("a name between slashes is longer than \(Self.maximumNameBytes) bytes")
        }
        let name = String(segments[segments.count - 1])
        if Self.isTemporary(name) {
            throw invalid("names starting with '.' and containing '\(Self.temporaryMarker)' are the store's temporary files")
        }
        return name
    }

    func validatePrefix(_ prefix: String) throws {
        if prefix.utf8.count > Self.maximumKeyBytes || prefix.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw ObjectStoreError.invalidKey(store: displayName, key: prefix,
                                              cause: "a prefix is at most \(Self.maximumKeyBytes) bytes of printable characters")
        }
    }

    func notFound(_ key: String, _ cause: String) -> ObjectStoreError {
        ObjectStoreError(.notFound, store: displayName, key: key, cause: cause)
    }

    func linkRefused(_ key: String, _ cause: String) -> ObjectStoreError {
        ObjectStoreError(.symlinkRefused, store: displayName, key: key, cause: cause)
    }

    func refuseLink(_ folder: Folder, _ name: String, key: String) throws {
        if folder.kind(of: name).0 == .symlink { throw linkRefused(key, "it is a symbolic link") }
    }
}
