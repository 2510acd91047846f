import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The SQLite files a `glob` or `folder` entry of a fleet file stands for, found once at load.
enum DatabaseDiscovery {
    /// Regular files matching `pattern` (glob(3): `*`, `?`, `[…]`), sorted; directories and
    /// other non-files are left out.
    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            if let cPath = result.gl_pathv[index], isRegularFile(cPath) { paths.append(String(cString: cPath)) }
        }
        return paths.sorted()
    }

    /// `path` with glob(3)'s special characters escaped, to anchor a relative pattern in a
    /// folder whose name may contain `[` or `*`.
    static func escapedForGlob(_ path: String) -> String {
        var escaped = ""
        for character in path {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// Regular files directly in `folder` whose header is SQLite's, sorted. Throws when the
    /// folder cannot be listed.
    static func sqliteFiles(in folder: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        return names.sorted().map { (folder as NSString).appendingPathComponent($0) }
            .filter { isRegularFile($0) && hasSQLiteHeader($0) }
    }

    /// The 16 bytes every SQLite 3 database file starts with.
    static let sqliteHeader: [UInt8] = Array("SQLite format 3\0".utf8)

    static func hasSQLiteHeader(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: sqliteHeader.count)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return count == sqliteHeader.count && bytes == sqliteHeader
    }

    static func isRegularFile(_ path: UnsafePointer<CChar>) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    static func isRegularFile(_ path: String) -> Bool { path.withCString { isRegularFile($0) } }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// A database's name from its file: the file name without its last extension (`portal.db` → `portal`).
    static func name(ofFile path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }
}
