/// Why an output could not be written. Messages name the path and say what to do next.
public struct OutputError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable { case cannotCreate, writeFailed, cannotRename, brokenPipe }
    public let code: Code
    public let path: String
    public let reason: String

    public init(code: Code, path: String, reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    public var description: String {
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
