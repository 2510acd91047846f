import Foundation

/// `d1://ACCOUNT_ID/DATABASE` (an id or a name), with the token and API base from the
/// environment. The token is kept out of every description.
package struct D1Location: Sendable, CustomStringConvertible {
    package static let scheme = "d1://"
    package static let defaultBaseURL = "https://api.cloudflare.com/client/v4"

    package let account: String
    package let database: String
    package let baseURL: String
    let token: String

    /// True for a source string this module reads (`d1://…`).
    package static func matches(_ source: String) -> Bool { source.lowercased().hasPrefix(scheme) }

    /// Parses `location`; `environment` supplies CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID
    /// (for `d1:///DATABASE`) and CLOUDFLARE_API_BASE_URL.
    package init(_ location: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.matches(location) else {
            throw D1Error(.invalidLocation, "\(location) is not a D1 location; write d1://ACCOUNT_ID/DATABASE")
        }
        let rest = location.dropFirst(Self.scheme.count)
        guard let slash = rest.firstIndex(of: "/") else {
            throw D1Error(.invalidLocation, "D1 location \(location) names no database; write d1://ACCOUNT_ID/DATABASE")
        }
        var account = String(rest[..<slash])
        let database = String(rest[rest.index(after: slash)...])
        if account.isEmpty { account = environment["CLOUDFLARE_ACCOUNT_ID"] ?? "" }
        guard !account.isEmpty else {
            throw D1Error(.invalidLocation, "D1 location \(location) names no account; write d1://ACCOUNT_ID/DATABASE or set CLOUDFLARE_ACCOUNT_ID")
        }
        guard !database.isEmpty, !database.contains("/"), !account.contains("?") else {
            throw D1Error(.invalidLocation, "D1 location \(location) must be d1://ACCOUNT_ID/DATABASE (a database id or name)")
        }
        guard let token = environment["CLOUDFLARE_API_TOKEN"], !token.isEmpty else {
            throw D1Error(.invalidLocation, "reading D1 needs an API token: set CLOUDFLARE_API_TOKEN")
        }
        var base = environment["CLOUDFLARE_API_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.account = account
        self.database = database
        self.baseURL = base
        self.token = token
    }

    package var description: String { "d1://\(account)/\(database)" }
}
