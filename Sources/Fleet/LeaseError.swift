/// Why a lease operation failed.
package struct LeaseError: Error, CustomStringConvertible, Sendable {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable { case lost, unreadable, store }
        fileprivate let base: Base
        fileprivate init(_ base: Base) { self.base = base }
        package var description: String { base.rawValue }

        /// Another replica took the lease over (it had expired) or changed it: stop the run.
        package static let lost = Code(.lost)
        /// The lease object is not a lease this version can read.
        package static let unreadable = Code(.unreadable)
        /// The store failed (unreachable, denied, …); the lease is as it was.
        package static let store = Code(.store)
    }

    package let code: Code
    package let sentence: String
    /// The lease object's key.
    package let key: String

    package init(_ code: Code, _ sentence: String, key: String) {
        self.code = code
        self.sentence = sentence
        self.key = key
    }

    package var description: String { sentence }
}
