import Backup
import Testing

@Suite("Backup errors")
struct BackupErrorTests {
    @Test("library errors say what went wrong, carry a code, and leave CLI advice to the CLI")
    func noFrontEndAdvice() {
        let errors: [BackupError] = [
            .noBackups(store: "folder /b", prefix: "backups/"),
            .notFound(store: "folder /b", key: "backups/database-2024-01-01-00-00-00.sql.gz"),
            .targetExists(path: "/srv/app.db"),
            .targetIsSymbolicLink(path: "/srv/app.db"),
            .busy(database: "/srv/app.db", holder: "pid 42"),
            .cannotRead("/nope", reason: "No such file or directory"),
        ]
        let codes: [BackupError.Code] = [.noBackups, .notFound, .targetExists, .targetIsSymbolicLink, .busy, .cannotRead]
        #expect(errors.map(\.code) == codes)
        for error in errors {
            #expect(!error.message.contains("--"), "\(error.message)")
            #expect(!error.message.contains("backstream "), "\(error.message)")
        }
        #expect(errors[1].key == "backups/database-2024-01-01-00-00-00.sql.gz")
        #expect(errors[4].holder == "pid 42")
    }
}
