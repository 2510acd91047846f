import Encryption
import Foundation

extension ServerConfiguration {
    /// BACKSTREAM_AGE_RECIPIENTS (age1… keys separated by commas or spaces) and
    /// BACKSTREAM_AGE_IDENTITY (the path of an age-keygen key file, never the key itself).
    /// Errors name the variable, never a key.
    mutating func applyEncryption(environment env: [String: String]) throws(ServerError) {
        if let text = env["BACKSTREAM_AGE_RECIPIENTS"] {
            do {
                recipients = try text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map { try AgeRecipient(parsing: String($0)) }
            } catch {
                throw .configuration("BACKSTREAM_AGE_RECIPIENTS: \(error)")
            }
        }
        if let path = env["BACKSTREAM_AGE_IDENTITY"], !path.isEmpty {
            do {
                identities = try AgeIdentity.load(file: path) { warning in
                    FileHandle.standardError.write(Data("backstream: warning: \(warning)\n".utf8))
                }
            } catch {
                throw .configuration("BACKSTREAM_AGE_IDENTITY: \(error)")
            }
        }
    }
}
