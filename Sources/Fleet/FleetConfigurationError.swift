/// A fleet file that cannot be used, with the line at fault when there is one:
/// `backstream.toml:12: schedule "61 * * * *": minute field: 61 is out of range 0-59`.
package struct FleetConfigurationError: Error, CustomStringConvertible, Sendable {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case syntax, unknownKey, wrongType, invalidValue, duplicateName, notFound, emptyFleet, cannotRead
        }
        fileprivate let base: Base
        fileprivate init(_ base: Base) { self.base = base }
        package var description: String { base.rawValue }

        /// Not TOML (TOMLKit's parser refused it).
        package static let syntax = Code(.syntax)
        /// A key or table the file format does not have (a typo must not be silently ignored).
        package static let unknownKey = Code(.unknownKey)
        /// A value of the wrong TOML type (a string where a number belongs).
        package static let wrongType = Code(.wrongType)
        /// A value of the right type that is not acceptable (a bad cron expression, a level out of range).
        package static let invalidValue = Code(.invalidValue)
        /// Two databases with one name.
        package static let duplicateName = Code(.duplicateName)
        /// A database path or folder that does not exist.
        package static let notFound = Code(.notFound)
        /// The file names no database at all.
        package static let emptyFleet = Code(.emptyFleet)
        /// The file itself, or a folder it names, could not be read.
        package static let cannotRead = Code(.cannotRead)
    }

    package let code: Code
    /// The file as the user named it.
    package let file: String
    /// 1-based; nil when the fault is the file as a whole.
    package let line: Int?
    package let reason: String

    package init(_ code: Code, file: String, line: Int?, reason: String) {
        self.code = code
        self.file = file
        self.line = line
        self.reason = reason
    }

    package var description: String {
        if let line { return "\(file):\(line): \(reason)" }
        return "\(file): \(reason)"
    }
}
