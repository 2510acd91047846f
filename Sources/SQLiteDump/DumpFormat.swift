/// Versioning and the fixed lines of a Backstream dump, shared by the writer and the loader.
public enum DumpFormat {
    public static let toolVersion = "0.1.0"
    /// Bumped when the script layout changes in a way a loader must know about.
    public static let formatVersion = 1
    public static let headerFirstLine = "-- Backstream SQL dump"
    /// The last line of every complete dump; a dump without it was cut short.
    public static let trailerPrefix = "-- Backstream dump complete:"
}
