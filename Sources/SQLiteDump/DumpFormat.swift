/// Versioning and the fixed lines of a Backstream dump, shared by the writer and the loader.
package enum DumpFormat {
    package static let toolVersion = "0.1.0"
    /// Bumped when the script layout changes in a way a loader must know about.
    package static let formatVersion = 1
    package static let headerFirstLine = "-- Backstream SQL dump"
    /// The last line of every complete dump; a dump without it was cut short.
    package static let trailerPrefix = "-- Backstream dump complete:"

    /// Checks the first bytes of a script named `name`; returns true when it is a foreign script
    /// that `accepts` allows, throws when it is refused.
    static func checkHeader(_ head: some Sequence<UInt8>, name: String, accepts: ScriptLoader.Source) throws -> Bool {
        if head.elementsEqual(headerFirstLine.utf8) { return false }
        guard accepts == .anyScript else {
            throw DumpError(.notBackstream, "\(name) is not a Backstream backup, or it is truncated: it does not start with the line \"\(headerFirstLine)\"")
        }
        return true
    }

    static func emptyScript(_ name: String) -> DumpError {
        DumpError(.notBackstream, "\(name) is empty: not a Backstream backup, or truncated to nothing")
    }
}
