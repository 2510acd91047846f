import ArgumentParser
import Encryption
import Foundation

/// `--encrypt-to` and `--recipients-file` of `backup`: public keys only.
struct RecipientOptions: ParsableArguments {
    @Option(name: .customLong("encrypt-to"), help: ArgumentHelp(
        "Encrypt the backup with age to this recipient (age1… from age-keygen); repeatable.", valueName: "age1…"))
    var encryptTo: [String] = []

    @Option(help: ArgumentHelp("Encrypt to the age1… recipients in this file (one a line, # comments).", valueName: "file"))
    var recipientsFile: String?

    func recipients() throws -> [AgeRecipient] {
        var recipients = try encryptTo.map(AgeRecipient.init(parsing:))
        if let recipientsFile {
            guard let text = try? String(contentsOfFile: recipientsFile, encoding: .utf8) else {
                throw ValidationError("cannot read the recipients file \(recipientsFile)")
            }
            let listed = try AgeRecipient.parseList(text)
            guard !listed.isEmpty else { throw ValidationError("the recipients file \(recipientsFile) holds no age1… recipient") }
            recipients += listed
        }
        return recipients
    }
}

/// `--identity` of the commands that read backups. A secret key is only ever named by the
/// path of its file, never passed as an argument (arguments are visible to every process).
struct IdentityOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "age identity file (AGE-SECRET-KEY-1… lines, as age-keygen writes) to decrypt encrypted backups.",
        discussion: "Default: the file named by $BACKSTREAM_AGE_IDENTITY.", valueName: "file"))
    var identity: String?

    func identities() throws -> [AgeIdentity] {
        try Self.load(identity ?? ProcessInfo.processInfo.environment["BACKSTREAM_AGE_IDENTITY"])
    }

    /// The identities in `path` (none when nil or empty); a file others can read is a warning.
    static func load(_ path: String?) throws -> [AgeIdentity] {
        guard let path, !path.isEmpty else { return [] }
        return try AgeIdentity.load(file: path) { Terminal.status("backstream: warning: \($0)\n") }
    }
}

extension Terminal {
    /// The next step after an encryption failure, in this CLI's terms.
    static func advice(for error: EncryptionError) -> String? {
        switch error.code {
        case .identityRequired: return "pass --identity FILE (the age-keygen key file) or set BACKSTREAM_AGE_IDENTITY"
        case .wrongIdentity: return "`backstream list --json` shows the recipients each backup is encrypted to"
        case .chunkTampered, .headerTampered, .truncated: return "the backup is damaged; restore another one"
        default: return nil
        }
    }
}
