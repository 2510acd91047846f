import ArgumentParser
import Backup
import D1Source
import SQLiteDump

/// What `dump` and `backup` add for a `d1://ACCOUNT_ID/DATABASE` source.
struct D1Options: ParsableArguments {
    @Flag(help: "For a d1:// source that keeps changing while it is read: write the dump anyway (its header and metadata say it is not one snapshot) instead of failing after 3 tries.")
    var allowChanges = false

    /// The opener of a D1 source, or nil for a local file.
    func opener(for source: String) throws -> DumpJob.SourceOpener? {
        guard D1Location.matches(source) else { return nil }
        let location = try D1Location(source)
        var options = D1Source.Options()
        options.allowChanges = allowChanges
        return { [options] dumpOptions in
            Dumper(source: try D1Source(location: location, options: options), options: dumpOptions)
        }
    }
}
