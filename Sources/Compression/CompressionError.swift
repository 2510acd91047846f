/// Why compressing or decompressing failed.
package struct CompressionError: Error, CustomStringConvertible, Sendable {
    package enum Code: Sendable { case invalidLevel, compressorUnavailable, corrupt, truncated }
    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
