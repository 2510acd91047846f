/// Why an output could not be written. Messages name the path and say what to do next.
package struct OutputError: Error, CustomStringConvertible, Sendable {
    package enum Code: Sendable { case cannotCreate, writeFailed, cannotRename, brokenPipe }
    package let code: Code
    package let path: String
    package let reason: String

    package init(code: Code, path: String, reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    package var description: String {
        switch code {
        case .cannotCreate:
            return "cannot create output file \(path): \(reason); check that the folder exists and is writable"
        case .writeFailed:
            return "writing \(path) failed: \(reason); check free disk space"
        case .cannotRename:
            return "cannot move the finished output into place at \(path): \(reason)"
        case .brokenPipe:
            return "the reader of \(path) closed the pipe before the dump ended"
        }
    }
}
