/// Why compressing or decompressing failed.
public struct CompressionError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable { case invalidLevel, compressorUnavailable, corrupt, truncated }
    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
